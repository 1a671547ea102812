"""The comment classifier as an official relies on it: themes, polarity and the urgent flag of
comments typed as citizens type them on phones."""
from __future__ import annotations

import subprocess
import sys

import pytest

from surveyapp.themes import THEMES, classify, classify_many, mentions_harassment


@pytest.mark.parametrize("text, theme", [
    ("Chờ gần ba tiếng mới tới lượt.", "waiting"),
    ("Chị tiếp nhận hồ sơ cộc lốc, chẳng chào ai.", "attitude"),
    ("Anh cán bộ hướng dẫn điền tờ khai rất kỹ.", "competence"),
    ("Bắt nộp thêm bản sao công chứng lần thứ hai.", "procedure"),
    ("Lệ phí thu cao hơn bảng niêm yết.", "fees"),
    ("Nhà vệ sinh bẩn, không có xà phòng.", "facilities"),
    ("Không có biển chỉ dẫn, tìm mãi không ra quầy.", "information"),
    ("Cổng dịch vụ công báo lỗi khi tải hồ sơ lên.", "online"),
    ("Giấy chứng nhận in sai tên chủ hộ.", "result"),
    ("Nhân viên đòi tiền bồi dưỡng mới nhận hồ sơ.", "harassment"),
    ("Bác sĩ khám qua loa, không hỏi triệu chứng.", "care"),
    ("Cô giáo giảng bài dễ hiểu, con thích đến lớp.", "teaching"),
])
def test_each_theme(text, theme):
    assert theme in classify(text).themes


def test_every_theme_code_is_one_of_the_documented_set():
    results = classify_many(["Chờ lâu, thái độ kém, phí cao, nhà vệ sinh bẩn, mạng lỗi, kết quả sai."])
    assert results[0].themes and set(results[0].themes) <= set(THEMES)
    assert results[0].themes == [t for t in THEMES if t in results[0].themes]  # documented order


def test_text_without_diacritics_reads_like_text_with_them():
    with_marks, without = classify("Chờ đợi lâu quá"), classify("cho doi lau qua")
    assert with_marks == without
    assert without.themes == ["waiting"] and without.polarity == "complaint"


def test_teencode_and_repeated_letters():
    assert classify("nv ko thân thiện").themes == ["attitude"]
    assert classify("nv ko thân thiện").polarity == "complaint"
    result = classify("đợi lâuuuuu quáaaa, ko dc giải quyết")
    assert "waiting" in result.themes and result.polarity == "complaint"
    assert classify("cb nhiet tinh, hd ky").polarity == "praise"


def test_mixed_vietnamese_and_english():
    result = classify("staff rude, wait qua lau")
    assert {"attitude", "waiting"} <= set(result.themes) and result.polarity == "complaint"
    assert classify("Doctor kham ky, very good").polarity == "praise"


def test_negation_turns_polarity():
    assert classify("Cán bộ thân thiện").polarity == "praise"
    assert classify("Cán bộ không thân thiện").polarity == "complaint"
    assert classify("ko than thien").polarity == "complaint"
    assert classify("Chờ lâu").polarity == "complaint"
    assert classify("Không phải chờ lâu").polarity == "praise"
    assert classify("k cho lau").polarity == "praise"


def test_a_folded_word_is_not_read_as_another():
    # "dán" (to post) folds to "dan" like "dân" (citizen); "quạt" (fan) to "quat" like "quát" (shout)
    assert "information" not in classify("Cán bộ hách dịch với người dân.").themes
    assert "attitude" not in classify("Quạt trong phòng chờ hỏng.").themes


def test_suggestion_and_neutral():
    assert classify("Nên bố trí thêm ghế ngồi ở khu chờ.").polarity == "suggestion"
    assert classify("de nghi lap them quat").polarity == "suggestion"
    # "nên" meaning "so" is no suggestion
    assert classify("Hướng dẫn sai nên phải làm lại hồ sơ.").polarity == "complaint"
    assert classify("Tôi đến nộp hồ sơ.").polarity == "neutral"
    assert classify("").themes == [] and classify("").polarity == "neutral"


@pytest.mark.parametrize("text", [
    "Có người cầm dao dọa nhân viên ở sảnh.",
    "Bệnh nhân khó thở mà không có ai trực.",
    "be bi co giat o phong cho",
])
def test_urgent_flag(text):
    assert classify(text).flags == ["urgent"]


def test_no_urgent_flag_on_an_ordinary_complaint():
    assert classify("Chờ lâu, phòng chờ nóng.").flags == []
    assert classify("Ghế ngồi ít, đông người.").flags == []


def test_mentions_harassment():
    assert mentions_harassment("Muốn nhanh phải có phong bì")
    assert mentions_harassment("bi doi tien moi lam ho so")
    assert not mentions_harassment("Cán bộ nhiệt tình, không phải chờ")


def test_the_classifier_imports_without_flask():
    code = ("import sys, importlib.util, pathlib\n"
            "sys.modules['flask'] = None\n"  # any import of Flask fails
            "spec = importlib.util.spec_from_file_location('themes', pathlib.Path('surveyapp/themes/__init__.py'),"
            " submodule_search_locations=['surveyapp/themes'])\n"
            "m = importlib.util.module_from_spec(spec); sys.modules['themes'] = m; spec.loader.exec_module(m)\n"
            "print(m.classify('cho lau qua').themes)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['waiting']"


def test_a_word_typed_with_diacritics_is_only_itself():
    # "chăm" (care) folds like "chậm" (slow), "rồi" (already) like "rối" (confusing),
    # "thường" (often) like "thương" (to care for): typed with marks, each is only itself.
    caring = classify("Các bác sĩ chăm sóc bé rất chu đáo, bé khỏi bệnh rồi ạ")
    assert caring.polarity == "praise" and "waiting" not in caring.themes
    assert "attitude" not in classify("Cô thường gửi nhận xét qua sổ liên lạc").themes
    # Typed without marks, the folded word still finds the term.
    assert classify("cho doi lau qua").themes == ["waiting"]
    assert "care" in classify("bac si cham soc tan tinh").themes


def test_questions_are_neutral_and_threats_complaints():
    question = classify("Cho hỏi phí làm lại thẻ BHYT bao nhiêu ạ")
    assert question.polarity == "neutral" and "fees" in question.themes
    assert classify("Mất thẻ BHYT thì làm lại ở đâu, có tốn phí ko").polarity == "neutral"
    # A question word inside a statement does not make it a question.
    assert classify("BHYT chi trả bao nhiêu không ai nói, ra quầy mới biết phải đóng 4 triệu, quá tệ").polarity \
        == "complaint"
    threat = classify("Tôi sẽ cho người đến xử lý cái bác sĩ đó, nhớ mặt rồi.")
    assert threat.flags == ["urgent"] and threat.polarity == "complaint"


def test_intensifier_and_a_proposing_nen():
    assert classify("Hồ sơ phức tạp mà cán bộ xử lý rất gọn").polarity == "praise"
    assert classify("Phí nên thu một lần, đừng chia nhiều khoản").polarity == "suggestion"
    assert classify("Hướng dẫn sai nên phải làm lại hồ sơ.").polarity == "complaint"
