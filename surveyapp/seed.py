"""Standard questionnaires, the default targets, and the demo province.

The questionnaires paraphrase the official forms described in shared/domain.md:
SIPAS (administrative), the quick counter rating (kiosk and receipt QR), the
Ministry of Health outpatient and inpatient forms, and the Ministry of
Education form for parents.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import numpy as np
import sqlalchemy as sa

from .clock import today as local_today
from .extensions import db
from .themes.demo import demo_comments
from .models import (
    Answer,
    Aspect,
    KioskDevice,
    Option,
    Organisation,
    Question,
    Questionnaire,
    Response,
    ServicePoint,
    ServiceVolume,
    Survey,
    Target,
    User,
    survey_service_point,
)

SCALE_5 = [
    (1, "v1", "Rất không hài lòng", "Very dissatisfied", False),
    (2, "v2", "Không hài lòng", "Dissatisfied", False),
    (3, "v3", "Bình thường", "Neutral", False),
    (4, "v4", "Hài lòng", "Satisfied", True),
    (5, "v5", "Rất hài lòng", "Very satisfied", True),
]
NO_OPINION = ("na", "Không ý kiến / Không áp dụng", "No opinion / Not applicable")
# The quick counter rating lists the best answer first, as on the counter devices.
SCALE_QUICK = [
    (4, "v4", "Rất hài lòng", "Very satisfied", True),
    (3, "v3", "Hài lòng", "Satisfied", True),
    (2, "v2", "Chưa hài lòng", "Not quite satisfied", False),
    (1, "v1", "Không hài lòng", "Dissatisfied", False),
]
QUICK_QUESTION_VI = "Ông/Bà có hài lòng với sự phục vụ hôm nay không?"
QUICK_QUESTION_EN = "Are you satisfied with the service you received today?"
QUICK_REASONS = [
    ("waiting_time", "Thời gian chờ đợi", "Waiting time"),
    ("attitude", "Thái độ phục vụ", "Staff attitude"),
    ("procedure", "Thủ tục", "Procedure"),
    ("facilities", "Cơ sở vật chất", "Facilities"),
    ("other", "Lý do khác", "Other"),
]

# (code, vi, en, [(item code, vi, en), ...])
SIPAS_ASPECTS = [
    ("access", "Tiếp cận dịch vụ", "Access to the service", [
        ("a1", "Nơi ngồi chờ có đủ chỗ ngồi", "The waiting area has enough seats"),
        ("a2", "Trang thiết bị phục vụ đầy đủ, dễ sử dụng", "Equipment is sufficient and easy to use"),
        ("a3", "Dễ tìm nơi nộp hồ sơ và nơi tra cứu thông tin", "It is easy to find where to submit a dossier and look things up"),
    ]),
    ("procedure", "Thủ tục hành chính", "Administrative procedure", [
        ("p1", "Thủ tục được niêm yết công khai, đầy đủ, chính xác", "The procedure is posted publicly, completely and accurately"),
        ("p2", "Chỉ phải nộp các giấy tờ theo đúng quy định", "Only the documents the rules require were asked for"),
        ("p3", "Phí, lệ phí đúng quy định", "Fees were as regulated"),
        ("p4", "Thời hạn giải quyết đúng quy định", "The time limit was as regulated"),
    ]),
    ("staff", "Công chức giải quyết công việc", "Civil servants", [
        ("s1", "Công chức có thái độ lịch sự, tôn trọng", "The civil servant was polite and respectful"),
        ("s2", "Công chức lắng nghe và giải thích đầy đủ", "The civil servant listened and explained fully"),
        ("s3", "Hướng dẫn tận tình, dễ hiểu", "Guidance was helpful and easy to understand"),
        ("s4", "Tuân thủ quy định, không gây nhũng nhiễu, không đòi tiền", "Followed the rules, with no harassment and no request for money"),
    ]),
    ("result", "Kết quả giải quyết", "Result", [
        ("r1", "Kết quả đúng quy định", "The result is as the rules say"),
        ("r2", "Thông tin trong kết quả đầy đủ, chính xác", "Its information is complete and accurate"),
        ("r3", "Nhận kết quả đúng hẹn", "It was received on time"),
    ]),
    ("feedback", "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị", "Feedback, complaints and suggestions", [
        ("f1", "Có bố trí hình thức tiếp nhận góp ý, phản ánh", "There is a way to give feedback"),
        ("f2", "Dễ dàng thực hiện góp ý, phản ánh", "Giving feedback is easy"),
        ("f3", "Góp ý, phản ánh được xử lý và trả lời kịp thời", "Feedback is handled and answered in time"),
    ]),
]

HEALTH_ASPECTS = [
    ("access", "A. Khả năng tiếp cận", "A. Access", [
        ("a1", "Biển báo, chỉ dẫn đường đến các khoa, phòng rõ ràng, dễ hiểu", "Signs to departments are clear and easy to follow"),
        ("a2", "Dễ tìm đường đến nơi khám, chữa bệnh", "It is easy to find the way to where you are treated"),
        ("a3", "Được thông tin về thời gian chờ khám, chữa bệnh", "You were told how long you would wait"),
    ]),
    ("transparency", "B. Minh bạch thông tin và thủ tục", "B. Transparency of information and procedures", [
        ("b1", "Giá dịch vụ, viện phí được công khai rõ ràng", "Fees are posted clearly"),
        ("b2", "Được giải thích về tình trạng bệnh, phương pháp điều trị", "Your condition and treatment were explained"),
        ("b3", "Thứ tự khám, làm xét nghiệm được bảo đảm công bằng", "The order of examination and tests was fair"),
    ]),
    ("facilities", "C. Cơ sở vật chất và phương tiện phục vụ", "C. Facilities", [
        ("c1", "Có đủ ghế ngồi chờ", "There are enough seats while waiting"),
        ("c2", "Nhà vệ sinh sạch sẽ, đủ dùng", "Toilets are clean and sufficient"),
        ("c3", "Có nước uống sạch", "Clean drinking water is available"),
        ("c4", "Được bảo đảm sự riêng tư khi khám, chữa bệnh", "Your privacy was respected"),
    ]),
    ("staff", "D. Thái độ ứng xử, năng lực chuyên môn", "D. Staff attitude and competence", [
        ("d1", "Bác sĩ có lời nói, thái độ, giao tiếp đúng mực", "Doctors were courteous"),
        ("d2", "Điều dưỡng có lời nói, thái độ, giao tiếp đúng mực", "Nurses were courteous"),
        ("d3", "Bác sĩ, điều dưỡng có năng lực chuyên môn tốt", "Doctors and nurses were competent"),
    ]),
    ("result", "E. Kết quả cung cấp dịch vụ", "E. Result of care", [
        ("e1", "Kết quả khám, chữa bệnh đáp ứng mong đợi", "The outcome of care met your expectations"),
        ("e2", "Chi phí phù hợp với dự kiến", "The cost matched what you expected"),
    ]),
]
INPATIENT_EXTRA = ("ward", "Buồng bệnh, suất ăn và ra viện", "Ward, meals and discharge", [
    ("w1", "Buồng bệnh sạch sẽ, thoáng mát", "The ward is clean and airy"),
    ("w2", "Suất ăn bảo đảm chất lượng", "Meals are of good quality"),
    ("w3", "Được hướng dẫn đầy đủ khi ra viện", "You were given full information at discharge"),
])

EDUCATION_ASPECTS = [
    ("access", "Tiếp cận dịch vụ giáo dục", "Access", [
        ("a1", "Thủ tục tuyển sinh thuận lợi", "Enrolment is straightforward"),
        ("a2", "Khoảng cách đến trường phù hợp", "The distance to school is reasonable"),
        ("a3", "Học phí, các khoản thu được công khai", "School fees and charges are made public"),
    ]),
    ("facilities", "Cơ sở vật chất, trang thiết bị", "Facilities", [
        ("c1", "Phòng học đủ ánh sáng, an toàn", "Classrooms are well lit and safe"),
        ("c2", "Nhà vệ sinh sạch sẽ", "Toilets are clean"),
        ("c3", "Sân chơi, thiết bị dạy học đầy đủ", "Play areas and teaching equipment are sufficient"),
    ]),
    ("environment", "Môi trường giáo dục", "Educational environment", [
        ("m1", "Nhà trường an toàn, không có bạo lực", "The school is safe, without violence"),
        ("m2", "Học sinh được đối xử công bằng", "Pupils are treated fairly"),
    ]),
    ("activities", "Hoạt động giáo dục", "Educational activities", [
        ("h1", "Chất lượng giảng dạy tốt", "Teaching is of good quality"),
        ("h2", "Hoạt động ngoại khóa phong phú", "Extra-curricular activities are varied"),
        ("h3", "Nhà trường trao đổi thường xuyên với cha mẹ học sinh", "The school communicates regularly with parents"),
    ]),
    ("results", "Kết quả giáo dục", "Results", [
        ("k1", "Con tiến bộ về kiến thức", "Your child progresses in knowledge"),
        ("k2", "Con tiến bộ về kỹ năng và hành vi", "Your child progresses in skills and behaviour"),
    ]),
]

OVERALL_VI = "Nhìn chung, Ông/Bà hài lòng với dịch vụ ở mức nào?"
OVERALL_EN = "Overall, how satisfied are you with the service?"
COMMENT_VI = "Ông/Bà có góp ý gì thêm không?"
COMMENT_EN = "Any other comments?"
COMMENT_MAX = 1000


def _rating(q: Questionnaire, pos: int, code: str, vi: str, en: str, aspect: Aspect | None, counts: bool,
            required: bool = False, no_opinion: bool = True) -> Question:
    question = Question(
        questionnaire=q, aspect=aspect, position=pos, code=code, type="rating", text_vi=vi, text_en=en,
        required=required, counts_in_index=counts,
    )
    for i, (value, ocode, lvi, len_, sat) in enumerate(SCALE_5, start=1):
        question.options.append(Option(position=i, code=ocode, value=value, label_vi=lvi, label_en=len_, is_satisfied=sat))
    if no_opinion:
        question.options.append(
            Option(position=6, code=NO_OPINION[0], value=None, label_vi=NO_OPINION[1], label_en=NO_OPINION[2], is_no_opinion=True)
        )
    return question


def _choice(q: Questionnaire, pos: int, code: str, vi: str, en: str, options: list[tuple], qtype: str = "choice",
            required: bool = False) -> Question:
    question = Question(questionnaire=q, position=pos, code=code, type=qtype, text_vi=vi, text_en=en, required=required)
    for i, opt in enumerate(options, start=1):
        ocode, lvi, len_ = opt[:3]
        value = opt[3] if len(opt) > 3 else None
        sat = opt[4] if len(opt) > 4 else False
        question.options.append(Option(position=i, code=ocode, value=value, label_vi=lvi, label_en=len_, is_satisfied=sat))
    return question


def _aspect_questionnaire(family: str, title_vi: str, title_en: str, sector: str, indicator: str,
                          aspects: list, tail) -> Questionnaire:
    q = Questionnaire(family=family, version=1, title_vi=title_vi, title_en=title_en, sector=sector,
                      indicator=indicator, is_standard=True)
    pos = 0
    for apos, (acode, avi, aen, items) in enumerate(aspects, start=1):
        aspect = Aspect(questionnaire=q, position=apos, code=acode, title_vi=avi, title_en=aen)
        for icode, ivi, ien in items:
            pos += 1
            _rating(q, pos, f"{acode}_{icode}", ivi, ien, aspect, counts=True)
    tail(q, pos)
    return q


def _overall_and_comment(q: Questionnaire, pos: int) -> int:
    _rating(q, pos + 1, "overall", OVERALL_VI, OVERALL_EN, None, counts=False, no_opinion=False)
    q.questions.append(Question(position=pos + 2, code="comment", type="text", text_vi=COMMENT_VI, text_en=COMMENT_EN,
                                max_length=COMMENT_MAX))
    return pos + 2


def standard_questionnaires() -> list[Questionnaire]:
    """Build (not add) the five standard questionnaires."""

    def sipas_tail(q, pos):
        pos = _overall_and_comment(q, pos)
        _choice(q, pos + 1, "field", "Lĩnh vực thủ tục Ông/Bà vừa thực hiện", "The field of the procedure you used", [
            ("land", "Đất đai", "Land"), ("construction", "Xây dựng", "Construction"),
            ("justice", "Tư pháp, hộ tịch", "Justice and civil status"), ("business", "Đăng ký kinh doanh", "Business registration"),
            ("social", "Lao động, xã hội", "Labour and social affairs"), ("other", "Lĩnh vực khác", "Other"),
        ])
        _choice(q, pos + 2, "first_visit", "Đây có phải lần đầu Ông/Bà đến giải quyết thủ tục này không?",
                "Is this your first visit for this procedure?", [("yes", "Có", "Yes"), ("no", "Không", "No")], qtype="yesno")
        _choice(q, pos + 3, "age_band", "Độ tuổi của Ông/Bà", "Your age", [
            ("u25", "Dưới 25", "Under 25"), ("25_39", "25–39", "25–39"), ("40_59", "40–59", "40–59"), ("60p", "60 trở lên", "60 and over"),
        ])

    def health_tail(q, pos):
        Question(questionnaire=q, position=pos + 1, code="expectation", type="number",
                            text_vi="Bệnh viện đã đáp ứng được bao nhiêu phần trăm so với mong đợi của Ông/Bà? (0–100)",
                            text_en="What percent of your expectations did the hospital meet? (0–100)",
                            min_value=0, max_value=100)
        _choice(q, pos + 2, "return", "Nếu có nhu cầu, Ông/Bà có quay trở lại hoặc giới thiệu người khác đến không?",
                "Would you come back or recommend the hospital?", [
                    ("no", "Không bao giờ quay lại", "No", 1), ("maybe", "Có thể quay lại", "Maybe", 2),
                    ("yes", "Chắc chắn quay lại", "Yes", 3), ("recommend", "Chắc chắn quay lại và giới thiệu người khác", "Yes, and I will recommend it", 4),
                ])
        q.questions.append(Question(position=pos + 3, code="comment", type="text", text_vi=COMMENT_VI, text_en=COMMENT_EN,
                                    max_length=COMMENT_MAX))

    def education_tail(q, pos):
        _overall_and_comment(q, pos)

    sipas = _aspect_questionnaire(
        "sipas-admin", "Khảo sát sự hài lòng về dịch vụ hành chính công", "Satisfaction with administrative services",
        "administrative", "composite", SIPAS_ASPECTS, sipas_tail)
    outpatient = _aspect_questionnaire(
        "health-outpatient", "Khảo sát sự hài lòng người bệnh ngoại trú", "Outpatient satisfaction",
        "health", "overall_rate", HEALTH_ASPECTS, health_tail)
    inpatient = _aspect_questionnaire(
        "health-inpatient", "Khảo sát sự hài lòng người bệnh nội trú", "Inpatient satisfaction",
        "health", "overall_rate", HEALTH_ASPECTS + [INPATIENT_EXTRA], health_tail)
    education = _aspect_questionnaire(
        "education-parents", "Khảo sát sự hài lòng của cha mẹ học sinh", "Parents' satisfaction with the school",
        "education", "composite", EDUCATION_ASPECTS, education_tail)

    quick = Questionnaire(family="quick-rating", version=1, title_vi="Đánh giá nhanh tại quầy",
                          title_en="Quick counter rating", sector="administrative", indicator="quick", is_standard=True)
    rating = Question(questionnaire=quick, position=1, code="rating", type="rating", text_vi=QUICK_QUESTION_VI,
                      text_en=QUICK_QUESTION_EN, required=True, counts_in_index=True)
    for i, (value, ocode, lvi, len_, sat) in enumerate(SCALE_QUICK, start=1):
        rating.options.append(Option(position=i, code=ocode, value=value, label_vi=lvi, label_en=len_, is_satisfied=sat))
    reason = _choice(quick, 2, "reason", "Ông/Bà chưa hài lòng về điều gì?", "What were you not satisfied with?",
                     QUICK_REASONS)
    reason.follows_code, reason.follows_max_value = "rating", 2
    return [sipas, quick, outpatient, inpatient, education]


def default_targets() -> list[Target]:
    """Targets of Resolution 76/NQ-CP (shared/domain.md)."""
    r76 = "Nghị quyết 76/NQ-CP"
    p1 = (date(2021, 1, 1), date(2025, 12, 31))
    p2 = (date(2026, 1, 1), date(2030, 12, 31))
    rows = []
    for (start, end), admin, other in ((p1, 0.90, 0.85), (p2, 0.95, 0.90)):
        rows += [
            Target(indicator="composite", sector="administrative", value=admin, operator=">", valid_from=start, valid_to=end, source=r76),
            Target(indicator="procedure", sector="administrative", value=admin, operator=">=", valid_from=start, valid_to=end, source=r76),
            Target(indicator="quick", sector="administrative", value=admin, operator=">=", valid_from=start, valid_to=end, source=r76),
            Target(indicator="overall_rate", sector="health", value=other, operator=">=", valid_from=start, valid_to=end, source=r76),
            Target(indicator="quick", sector="health", value=other, operator=">=", valid_from=start, valid_to=end, source=r76),
            Target(indicator="composite", sector="education", value=other, operator=">=", valid_from=start, valid_to=end,
                   source=r76 + "; Quyết định 2034/QĐ-BGDĐT"),
            Target(indicator="quick", sector="education", value=other, operator=">=", valid_from=start, valid_to=end, source=r76),
        ]
    return rows


def seed_standard(session=None) -> dict[str, Questionnaire]:
    """Add the standard questionnaires and default targets unless present. Idempotent."""
    session = session or db.session
    existing = {q.family: q for q in session.scalars(sa.select(Questionnaire).where(Questionnaire.is_standard))}
    for q in standard_questionnaires():
        if q.family not in existing:
            session.add(q)
            existing[q.family] = q
    if not session.scalar(sa.select(sa.func.count()).select_from(Target)):
        session.add_all(default_targets())
    session.flush()
    return existing


# ---------------------------------------------------------------------------------------------
# Demo province

DEMO_PASSWORD = "demo12345"

# (code, name, name_en, sector, parent code, [(service point name, name_en, monthly volume, quality)])
# quality: the unit's latent satisfaction on the logit scale; chosen so that some units meet
# their targets and some do not.
DEMO_TREE = [
    ("KA", "UBND tỉnh Khánh An", "Khanh An Provincial People's Committee", "administrative", None, []),
    ("KA-HCC", "Trung tâm Phục vụ hành chính công tỉnh", "Provincial Public Administration Service Centre",
     "administrative", "KA", [
         ("Quầy 1 – Tư pháp", "Counter 1 – Justice", 900, 4.6),
         ("Quầy 2 – Xây dựng", "Counter 2 – Construction", 600, 1.9),
         ("Quầy 3 – Nông nghiệp và Môi trường", "Counter 3 – Agriculture and Environment", 1200, 1.3),
         ("Quầy 4 – Tài chính", "Counter 4 – Finance", 700, 2.9),
     ]),
    ("KA-TANPHU", "UBND xã Tân Phú", "Tan Phu Commune People's Committee", "administrative", "KA", [
        ("Bộ phận Một cửa xã Tân Phú", "Tan Phu one-stop desk", 450, 4.2),
    ]),
    ("KA-HOABINH", "UBND xã Hòa Bình", "Hoa Binh Commune People's Committee", "administrative", "KA", [
        ("Bộ phận Một cửa xã Hòa Bình", "Hoa Binh one-stop desk", 380, 1.5),
    ]),
    ("KA-SYT", "Sở Y tế", "Department of Health", "health", "KA", []),
    ("KA-BVDK", "Bệnh viện Đa khoa tỉnh Khánh An", "Khanh An General Hospital", "health", "KA-SYT", [
        ("Khoa Khám bệnh", "Outpatient Department", 5000, 1.6),
        ("Khoa Nội", "Internal Medicine", 900, 2.4),
        ("Khoa Ngoại", "Surgery", 700, 2.0),
        ("Khoa Nhi", "Paediatrics", 600, 3.6),
    ]),
    ("KA-SGD", "Sở Giáo dục và Đào tạo", "Department of Education and Training", "education", "KA", []),
    ("KA-THPT-LQD", "Trường THPT Lê Quý Đôn", "Le Quy Don Upper Secondary School", "education", "KA-SGD", [
        ("Trường THPT Lê Quý Đôn", "Le Quy Don Upper Secondary School", 1100, 3.4),
    ]),
    ("KA-TH-ND", "Trường Tiểu học Nguyễn Du", "Nguyen Du Primary School", "education", "KA-SGD", [
        ("Trường Tiểu học Nguyễn Du", "Nguyen Du Primary School", 700, 1.7),
    ]),
]

def _months_back(today: date, n: int) -> list[date]:
    first = today.replace(day=1)
    months = []
    for i in range(n - 1, -1, -1):
        y, m = first.year, first.month - i
        while m <= 0:
            m += 12
            y -= 1
        months.append(date(y, m, 1))
    return months


def seed_demo(seed: int = 2026, n_responses: int = 20000, today: date | None = None) -> dict[str, int]:
    """Create the demo province with surveys, volumes and synthetic responses. Deterministic for a seed
    (and a date: the twelve months end with the current one)."""
    rng = np.random.default_rng(seed)
    today = today or local_today()
    session = db.session
    standard = seed_standard(session)

    orgs: dict[str, Organisation] = {}
    points: list[tuple[ServicePoint, str, int, float]] = []  # point, org code, volume, quality
    code_rng = np.random.default_rng(seed + 1)
    alphabet = np.array(list("23456789abcdefghjkmnpqrstuvwxyz"))
    for code, name, name_en, sector, parent, sps in DEMO_TREE:
        org = Organisation(code=code, name=name, name_en=name_en, sector=sector, parent=orgs.get(parent))
        session.add(org)
        session.flush()
        orgs[code] = org
        for sp_name, sp_en, volume, quality in sps:
            sp = ServicePoint(organisation=org, name=sp_name, name_en=sp_en,
                              code="".join(code_rng.choice(alphabet, 10)))
            session.add(sp)
            points.append((sp, code, volume, quality))
    session.flush()

    # Surveys: the sector's full questionnaire by QR, and the quick rating by kiosk (and receipt QR)
    # on every service point.
    start = _months_back(today, 12)[0]
    by_family = {
        "KA-HCC": "sipas-admin", "KA-TANPHU": "sipas-admin", "KA-HOABINH": "sipas-admin",
        "KA-THPT-LQD": "education-parents", "KA-TH-ND": "education-parents",
    }
    surveys: dict[int, Survey] = {}  # service point id -> full survey
    full_surveys: dict[tuple[str, str], Survey] = {}
    for sp, org_code, _vol, _q in points:
        family = by_family.get(org_code) or ("health-outpatient" if sp.name == "Khoa Khám bệnh" else "health-inpatient")
        key = (org_code, family)
        if key not in full_surveys:
            q = standard[family]
            full_surveys[key] = Survey(
                questionnaire=q, organisation=orgs[org_code], name=f"{q.title_vi} – {orgs[org_code].name}",
                starts_on=start, channel_qr=True, channel_kiosk=False, status="open")
            session.add(full_surveys[key])
        full_surveys[key].service_points.append(sp)
        surveys[sp.id] = full_surveys[key]
    quick = Survey(questionnaire=standard["quick-rating"], organisation=orgs["KA"],
                   name="Đánh giá nhanh tại quầy – toàn tỉnh", starts_on=start, channel_qr=True, channel_kiosk=True,
                   status="open", service_points=[p[0] for p in points])
    session.add(quick)

    months = _months_back(today, 12)
    for sp, _org, volume, _q in points:
        for i, month in enumerate(months):
            seasonal = 1 + 0.15 * np.sin(2 * np.pi * (month.month - 3) / 12)
            session.add(ServiceVolume(service_point=sp, month=month,
                                      volume=int(volume * seasonal * rng.uniform(0.9, 1.1))))

    admin = User(username="admin", full_name="Quản trị viên", role="admin")
    admin.set_password(DEMO_PASSWORD)
    manager = User(username="tanphu", full_name="Cán bộ xã Tân Phú", role="manager", organisation=orgs["KA-TANPHU"])
    manager.set_password(DEMO_PASSWORD)
    viewer = User(username="benhvien", full_name="Phòng Quản lý chất lượng", role="viewer", organisation=orgs["KA-BVDK"])
    viewer.set_password(DEMO_PASSWORD)
    session.add_all([admin, manager, viewer])
    session.add(KioskDevice(name="Máy tính bảng quầy 1", service_point=points[0][0]))
    session.flush()

    n = _generate_responses(session, rng, points, surveys, quick, months, today, n_responses)
    if session.get_bind().dialect.name == "postgresql":
        # The responses were inserted with explicit ids: move the sequence past them, or the
        # next real submission would collide with a demo row.
        session.execute(sa.text("SELECT setval(pg_get_serial_sequence('response', 'id'), "
                                "(SELECT COALESCE(MAX(id), 1) FROM response))"))
    session.commit()
    return {"organisations": len(orgs), "service_points": len(points), "responses": n}


# A respondent's answers share a latent level: satisfaction = unit quality + trend + aspect effect
# + the respondent's level + the item's own noise. Real respondents are consistent (a satisfied
# citizen tends to be satisfied on every item), so the respondent's level carries most of the
# variance: its share of the latent variance is the correlation between two of one person's
# latent answers. The total variance (person N(0, 0.9) plus standard logistic noise) is kept,
# so that the units' satisfaction levels stay where they were.
LATENT_CORRELATION = 0.65
_LATENT_VARIANCE = 0.9**2 + np.pi**2 / 3
PERSON_SD = float(np.sqrt(LATENT_CORRELATION * _LATENT_VARIANCE))
ITEM_NOISE_SCALE = float(np.sqrt((1 - LATENT_CORRELATION) * _LATENT_VARIANCE / (np.pi**2 / 3)))


def _generate_responses(session, rng, points, surveys, quick, months, today, n_total) -> int:
    """Synthetic responses with believable structure: unit quality, aspect effects, a gentle trend,
    and a shared level per respondent, so that one person's answers are strongly correlated
    (LATENT_CORRELATION) and indices have design effects like real surveys'."""
    questions_cache: dict[int, list[Question]] = {}
    response_rows: list[dict] = []
    answer_rows: list[dict] = []
    next_response_id = first_id = (session.scalar(sa.select(sa.func.max(Response.id))) or 0) + 1
    quick_questions = {q.code: q for q in quick.questionnaire.questions}
    cuts5 = np.array([-2.2, -1.0, 0.4, 2.0])  # logit thresholds between the five categories

    for sp, _code, volume, quality in points:
        n_sp = int(round(n_total * volume ** 0.6 / sum(p[2] ** 0.6 for p in points)))
        full = surveys[sp.id]
        qs = questions_cache.setdefault(full.questionnaire_id, list(full.questionnaire.questions))
        aspect_effect = {a.id: rng.normal(0, 0.5) for a in full.questionnaire.aspects}
        comments = demo_comments(sp.organisation.sector) or demo_comments()
        for _ in range(n_sp):
            month_idx = int(rng.integers(0, len(months)))
            month = months[month_idx]
            last_day = (today if month_idx == len(months) - 1 else
                        (months[month_idx + 1] - timedelta(days=1)))
            day = month + timedelta(days=int(rng.integers(0, (last_day - month).days + 1)))
            when = datetime.combine(day, time(7, 30)) + timedelta(minutes=int(rng.integers(0, 9 * 60)))
            trend = 0.04 * (month_idx - 6)
            person_z = rng.standard_normal()
            person = PERSON_SD * person_z
            use_quick = rng.random() < 0.45
            rid = next_response_id
            next_response_id += 1
            lang = "en" if rng.random() < 0.04 else "vi"
            survey = quick if use_quick else full
            channel = ("kiosk" if rng.random() < 0.8 else "qr") if use_quick else "qr"
            response_rows.append(dict(
                id=rid, survey_id=survey.id, service_point_id=sp.id, channel=channel, submitted_at=when,
                client_created_at=when if channel == "kiosk" else None, language=lang,
                idempotency_key=uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | rid).hex,
                duration_ms=int(rng.integers(4000, 240000)) if not use_quick else None,
                contact_consent=False,
            ))
            base = dict(response_id=rid, service_point_id=sp.id, submitted_at=when, value=None, text=None)
            if use_quick:
                latent = quality + trend + person + ITEM_NOISE_SCALE * rng.logistic()
                value = 4 if latent > 2.6 else 3 if latent > 0.3 else 2 if latent > -0.9 else 1
                q = quick_questions["rating"]
                opt = next(o for o in q.options if o.value == value)
                answer_rows.append(base | dict(question_id=q.id, option_id=opt.id, value=value, satisfied=int(value >= 3)))
                if value <= 2 and rng.random() < 0.6:
                    rq = quick_questions["reason"]
                    ropt = rq.options[int(rng.integers(0, len(rq.options)))]
                    answer_rows.append(base | dict(question_id=rq.id, option_id=ropt.id, satisfied=None))
                continue
            for q in qs:
                if q.type == "rating":
                    if q.counts_in_index and rng.random() < 0.03:
                        opt = next((o for o in q.options if o.is_no_opinion), None)
                        if opt is not None:
                            answer_rows.append(base | dict(question_id=q.id, option_id=opt.id, satisfied=None))
                            continue
                    latent = (quality + trend + person + aspect_effect.get(q.aspect_id, 0.0)
                              + ITEM_NOISE_SCALE * rng.logistic())
                    value = 1 + int(np.searchsorted(cuts5, latent))
                    opt = next(o for o in q.options if o.value == value)
                    answer_rows.append(base | dict(question_id=q.id, option_id=opt.id, value=value,
                                                   satisfied=int(opt.is_satisfied) if q.counts_in_index else None))
                elif q.type == "number":
                    value = int(np.clip(round(60 + 12 * (quality + 0.9 * person_z)), 0, 100))
                    answer_rows.append(base | dict(question_id=q.id, value=value, satisfied=None))
                elif q.type in ("choice", "yesno"):
                    if rng.random() < 0.7:
                        opt = q.options[int(rng.integers(0, len(q.options)))]
                        answer_rows.append(base | dict(question_id=q.id, option_id=opt.id, value=opt.value, satisfied=None))
                elif q.type == "text" and rng.random() < 0.08:
                    answer_rows.append(base | dict(question_id=q.id, text=comments[int(rng.integers(0, len(comments)))],
                                                   satisfied=None))
        if len(answer_rows) > 50000:
            _flush_rows(session, response_rows, answer_rows)
    _flush_rows(session, response_rows, answer_rows)
    return next_response_id - first_id


def _flush_rows(session, response_rows: list[dict], answer_rows: list[dict]) -> None:
    if response_rows:
        session.execute(sa.insert(Response), response_rows)
    if answer_rows:
        # Same keys in every row: one executemany.
        keys = ("response_id", "service_point_id", "submitted_at", "question_id", "option_id", "value", "text", "satisfied")
        session.execute(sa.insert(Answer), [{k: r.get(k) for k in keys} for r in answer_rows])
    response_rows.clear()
    answer_rows.clear()


__all__ = ["seed_standard", "seed_demo", "standard_questionnaires", "default_targets", "DEMO_PASSWORD",
           "survey_service_point"]
