"""What users read for each theme, polarity and flag code (Vietnamese; English in
translations/parts/themes.po). Separate from the classifier, which needs no Flask."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

THEME_LABELS = {
    "waiting": _l("Chờ đợi, xếp hàng, trễ hẹn"),
    "attitude": _l("Thái độ, sự lịch sự"),
    "competence": _l("Hướng dẫn, chuyên môn"),
    "procedure": _l("Thủ tục, giấy tờ, biểu mẫu"),
    "fees": _l("Phí, lệ phí, chi phí"),
    "facilities": _l("Cơ sở vật chất"),
    "information": _l("Thông tin, giải thích, biển chỉ dẫn"),
    "online": _l("Dịch vụ trực tuyến, hệ thống, mạng"),
    "result": _l("Kết quả và việc trả kết quả"),
    "harassment": _l("Gây phiền hà, đòi tiền"),
    "care": _l("Khám chữa bệnh, chăm sóc"),
    "teaching": _l("Giảng dạy, hoạt động nhà trường"),
}
POLARITY_LABELS = {
    "complaint": _l("Phàn nàn"),
    "praise": _l("Khen"),
    "suggestion": _l("Góp ý"),
    "neutral": _l("Trung tính"),
}
FLAG_LABELS = {"urgent": _l("Cần xử lý ngay")}
