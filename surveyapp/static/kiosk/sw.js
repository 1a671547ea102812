/* Kiosk service worker: keeps the kiosk page and its assets so that the tablet reloads and
 * rates with no network. The cache name carries the asset digest (?v=), so a deployment that
 * changes any asset installs a fresh cache and drops the old one. The API is never cached. */
"use strict";

var VERSION = new URL(self.location.href).searchParams.get("v") || "0";
var CACHE = "surveyapp-kiosk-" + VERSION;
var SCOPE = self.registration.scope; // .../kiosk/
var PAGES = ["./", "enroll", "manifest.webmanifest"].map(function (p) { return new URL(p, SCOPE).href; });
var ASSETS = ["../static/css/app.css", "../static/kiosk/kiosk.css", "../static/kiosk/kiosk.js",
              "../static/kiosk/enroll.js", "../static/kiosk/icon.svg"].map(function (p) { return new URL(p, SCOPE).href; });
var NETWORK_TIMEOUT_MS = 3000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(PAGES.concat(ASSETS).map(function (u) { return new Request(u, { cache: "reload" }); }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("surveyapp-kiosk-") === 0 && k !== CACHE; })
        .map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function withoutQuery(url) {
  var u = new URL(url);
  return u.origin + u.pathname;
}

function networkFirst(request, key) {
  // Pages: the newest copy when the server answers quickly, else the cached one.
  return new Promise(function (resolve) {
    var settled = false;
    function fromCache() {
      if (settled) { return; }
      caches.match(key, { ignoreSearch: true }).then(function (hit) {
        if (hit && !settled) { settled = true; resolve(hit); }
      });
    }
    var timer = setTimeout(fromCache, NETWORK_TIMEOUT_MS);
    fetch(request).then(function (res) {
      clearTimeout(timer);
      if (res.ok) {
        var copy = res.clone();
        caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
      }
      if (!settled) { settled = true; resolve(res); }
    }, function () {
      clearTimeout(timer);
      caches.match(key, { ignoreSearch: true }).then(function (hit) {
        if (!settled) { settled = true; resolve(hit || Response.error()); }
      });
    });
  });
}

function cacheFirst(request, key) {
  return caches.match(key, { ignoreSearch: true }).then(function (hit) {
    return hit || fetch(request);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var key = withoutQuery(request.url);
  if (PAGES.indexOf(key) !== -1) {
    event.respondWith(networkFirst(request, key));
  } else if (ASSETS.indexOf(key) !== -1) {
    event.respondWith(cacheFirst(request, key));
  }
});
