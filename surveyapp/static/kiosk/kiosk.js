/* Kiosk rating screen: one tap per rating, offline first.
 *
 * Every rating is written to IndexedDB (with a client UUID and the tablet's time) before
 * the thank-you screen shows; a sync loop sends the queue in batches and deletes a rating
 * only once the server has answered for it. The server is idempotent per UUID, so a batch
 * whose answer was lost is simply sent again.
 */
(function () {
  "use strict";

  var root = document.getElementById("kiosk-root");
  var STRINGS = JSON.parse(document.getElementById("kiosk-strings").textContent);
  var opt = root.dataset;
  var APP_VERSION = opt.appVersion;
  var DEBOUNCE_MS = Number(opt.debounceMs);
  var THANKS_MS = Number(opt.thanksMs);
  var IDLE_MS = Number(opt.idleMs);
  var SYNC_MS = Number(opt.syncMs);
  var HEARTBEAT_MS = Number(opt.heartbeatMs);
  var MAX_BACKOFF_MS = 5 * 60 * 1000;
  var KEY_TOKEN = "surveyapp.kiosk.token";
  var KEY_LANG = "surveyapp.kiosk.lang";
  var KEY_CONFIG = "surveyapp.kiosk.config";
  var KEY_DISABLED = "surveyapp.kiosk.disabled";

  var token = localStorage.getItem(KEY_TOKEN);
  var lang = localStorage.getItem(KEY_LANG) === "en" ? "en" : "vi";
  var screen = "start";
  var lastTap = -Infinity;
  var current = null; // the negative rating waiting for its optional reason
  var screenTimer = null;
  var idleTimer = null;
  var batchSize = 1000; // the server's limit; halved on 413
  var failures = 0;
  var syncing = false;
  var syncTimer = null;
  var dbPromise = null;

  // ---- IndexedDB queue ------------------------------------------------------------------

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open("surveyapp-kiosk", 2);
        req.onupgradeneeded = function () {
          var store = req.result.objectStoreNames.contains("ratings")
            ? req.transaction.objectStore("ratings")
            : req.result.createObjectStore("ratings", { keyPath: "id" });
          // Oldest first without reading the whole queue: a week offline can mean thousands.
          if (!store.indexNames.contains("by_time")) { store.createIndex("by_time", "created_at"); }
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }

  function tx(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction("ratings", mode);
        var result;
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
        result = work(t.objectStore("ratings"));
      });
    });
  }

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function putRating(rec) {
    // Resolves when the transaction is durable, not merely queued.
    return tx("readwrite", function (store) { store.put(rec); });
  }

  function allRatings() {
    var out;
    return tx("readonly", function (store) {
      request(store.getAll()).then(function (rows) { out = rows; });
    }).then(function () { return out || []; });
  }

  function deleteRatings(ids) {
    return tx("readwrite", function (store) {
      ids.forEach(function (id) { store.delete(id); });
    });
  }

  function queueLength() {
    var n = 0;
    return tx("readonly", function (store) {
      request(store.count()).then(function (c) { n = c; });
    }).then(function () { return n; });
  }

  function finishAbandoned() {
    // A follow-up question left open by a reload counts as skipped.
    return allRatings().then(function (rows) {
      var open = rows.filter(function (r) { return r.pending; });
      if (!open.length) { return; }
      return tx("readwrite", function (store) {
        open.forEach(function (r) { r.pending = false; store.put(r); });
      });
    });
  }

  function uuid() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ---- Screens --------------------------------------------------------------------------

  function t(key) { return STRINGS[lang][key] || STRINGS.vi[key] || ""; }

  function applyLanguage() {
    document.documentElement.lang = lang;
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (el) {
      el.textContent = t(el.dataset.i18n);
    });
    document.getElementById("lang-switch").lang = lang === "vi" ? "en" : "vi";
    document.title = t("question");
    var cfg = storedConfig();
    var place = document.getElementById("place");
    place.textContent = cfg && cfg.service_point ? cfg.service_point.name[lang] : "";
    var notice = document.getElementById("notice");
    notice.hidden = !(cfg && cfg.survey_open === false);
    notice.textContent = t("unavailable");
    updateStatus();
  }

  function show(name) {
    screen = name;
    clearTimeout(screenTimer);
    Array.prototype.forEach.call(document.querySelectorAll(".screen"), function (el) {
      el.hidden = el.id !== "screen-" + name;
    });
    root.dataset.screen = name;
    if (name === "thanks") {
      screenTimer = setTimeout(function () { show("start"); }, THANKS_MS);
    }
    resetIdle();
  }

  function resetIdle() {
    clearTimeout(idleTimer);
    if (screen === "start" || screen === "disabled" || screen === "enroll") { return; }
    idleTimer = setTimeout(function () {
      if (screen === "reason") { finishReason(null); }
      show("start");
    }, IDLE_MS);
  }

  function storedConfig() {
    try { return JSON.parse(localStorage.getItem(KEY_CONFIG) || "null"); } catch (e) { return null; }
  }

  function updateStatus() {
    queueLength().then(function (n) {
      var parts = [];
      if (!navigator.onLine) { parts.push(t("offline")); }
      if (n) { parts.push(t("queued").replace("{n}", n)); }
      document.getElementById("sync-status").textContent = parts.join(" · ");
    });
  }

  function disable() {
    localStorage.setItem(KEY_DISABLED, "1");
    show("disabled");
  }

  // ---- Rating ---------------------------------------------------------------------------

  function rate(value) {
    var now = Date.now();
    // A double tap, or a tap that lands while the screen changes, is one rating.
    if (screen !== "start" || now - lastTap < DEBOUNCE_MS) { return; }
    lastTap = now;
    var rec = { id: uuid(), value: value, created_at: new Date(now).toISOString(), language: lang, pending: value <= 2 };
    screen = "saving";
    putRating(rec).then(function () {
      if (value <= 2) {
        current = rec;
        show("reason");
      } else {
        show("thanks");
        scheduleSync(300);
      }
    }, function () {
      // Storage failed (quota, private mode): nothing was recorded, so say nothing was.
      show("start");
    });
  }

  function finishReason(reason) {
    var rec = current;
    current = null;
    if (!rec) { return Promise.resolve(); }
    rec.pending = false;
    if (reason) { rec.reason = reason; }
    return putRating(rec).then(function () { scheduleSync(300); });
  }

  // ---- Sync -----------------------------------------------------------------------------

  function authHeaders() {
    return { "Content-Type": "application/json", Authorization: "Bearer " + token };
  }

  function handleAuth(res) {
    if (res.status === 401) {
      localStorage.removeItem(KEY_TOKEN);
      show("enroll");
      return true;
    }
    if (res.status === 403) {
      disable();
      return true;
    }
    return false;
  }

  function nextBatch() {
    var rows = [];
    return tx("readonly", function (store) {
      var cursor = store.index("by_time").openCursor();
      cursor.onsuccess = function () {
        var c = cursor.result;
        if (!c || rows.length >= batchSize) { return; }
        if (!c.value.pending) { rows.push(c.value); }
        c.continue();
      };
    }).then(function () { return rows; });
  }

  function sendBatch(batch) {
    var body = batch.map(function (r) {
      var out = { id: r.id, value: r.value, created_at: r.created_at, language: r.language };
      if (r.reason) { out.reason = r.reason; }
      return out;
    });
    return fetch(opt.ratingsUrl, { method: "POST", headers: authHeaders(), body: JSON.stringify({ ratings: body }),
                                    credentials: "omit", cache: "no-store" })
      .then(function (res) {
        if (handleAuth(res)) { return "stop"; }
        if (res.status === 413) {
          batchSize = Math.max(1, Math.floor(batchSize / 2));
          return "again";
        }
        if (!res.ok) { throw new Error("HTTP " + res.status); }
        return res.json().then(function (data) {
          var done = [];
          var waiting = false;
          data.results.forEach(function (r, i) {
            // "no_open_survey" may change when a survey opens: keep those and retry later.
            if (r.status === "refused" && r.reason === "no_open_survey") { waiting = true; }
            else { done.push(batch[i].id); }
          });
          return deleteRatings(done).then(function () {
            if (waiting) { throw new Error("no open survey"); }
            return "again";
          });
        });
      });
  }

  function sync() {
    if (syncing || !token || localStorage.getItem(KEY_DISABLED)) { return Promise.resolve(); }
    syncing = true;
    function loop() {
      return nextBatch().then(function (batch) {
        if (!batch.length) { return "idle"; }
        return sendBatch(batch).then(function (state) { return state === "again" ? loop() : state; });
      });
    }
    return loop().then(function () {
      failures = 0;
      syncing = false;
      updateStatus();
      scheduleSync(SYNC_MS);
    }, function () {
      failures += 1;
      syncing = false;
      updateStatus();
      // Exponential backoff with jitter, so a fleet of tablets does not return at once.
      var wait = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, failures));
      scheduleSync(wait / 2 + Math.random() * wait / 2);
    });
  }

  function scheduleSync(delay) {
    clearTimeout(syncTimer);
    syncTimer = setTimeout(sync, delay);
  }

  function heartbeat() {
    if (!token || localStorage.getItem(KEY_DISABLED)) { return; }
    queueLength().then(function (n) {
      return fetch(opt.heartbeatUrl, { method: "POST", headers: authHeaders(), credentials: "omit", cache: "no-store",
                                       body: JSON.stringify({ queue_length: n, app_version: APP_VERSION }) });
    }).then(function (res) {
      if (handleAuth(res) || !res.ok) { return; }
      return res.json().then(function (cfg) {
        localStorage.setItem(KEY_CONFIG, JSON.stringify(cfg));
        applyLanguage();
      });
    }).catch(function () { /* offline: the next beat will tell */ });
  }

  // ---- Start ----------------------------------------------------------------------------

  function bind() {
    Array.prototype.forEach.call(document.querySelectorAll(".face"), function (b) {
      b.addEventListener("click", function () { rate(Number(b.dataset.value)); });
    });
    Array.prototype.forEach.call(document.querySelectorAll(".chip"), function (b) {
      b.addEventListener("click", function () {
        if (screen !== "reason") { return; }
        finishReason(b.dataset.reason).then(function () { show("thanks"); });
      });
    });
    document.getElementById("skip").addEventListener("click", function () {
      if (screen !== "reason") { return; }
      finishReason(null).then(function () { show("thanks"); });
    });
    document.getElementById("screen-thanks").addEventListener("click", function () {
      if (screen === "thanks") { show("start"); }
    });
    document.getElementById("lang-switch").addEventListener("click", function () {
      lang = lang === "vi" ? "en" : "vi";
      localStorage.setItem(KEY_LANG, lang);
      applyLanguage();
    });
    document.addEventListener("pointerdown", resetIdle, true);
    window.addEventListener("online", function () { failures = 0; updateStatus(); scheduleSync(0); heartbeat(); });
    window.addEventListener("offline", updateStatus);
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.register(opt.swUrl + "?v=" + encodeURIComponent(opt.cacheVersion), { scope: opt.scope })
      .catch(function () { /* the page still works online */ });
  }

  function start() {
    registerWorker();
    if (!token) {
      location.replace(opt.enrollUrl);
      show("enroll");
      return;
    }
    bind();
    applyLanguage();
    if (localStorage.getItem(KEY_DISABLED)) {
      show("disabled");
      return;
    }
    show("start");
    finishAbandoned().then(function () { scheduleSync(0); });
    heartbeat();
    setInterval(heartbeat, HEARTBEAT_MS);
    root.dataset.ready = "1";
  }

  start();
}());
