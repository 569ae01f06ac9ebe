"""Language detection: Arabic script, Arabizi, English, mixed and other languages."""

from __future__ import annotations

import pytest

from shared.text import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("التوصيل تأخر ساعتين", "ar"),
        ("الخدمه حلوه كتير 👍", "ar"),
        ("wallah el service zift", "ar"),  # Arabizi
        ("msh 3agebny el order", "ar"),
        ("el delivery et2akhar sa3ten", "ar"),
        ("the delivery was late", "en"),
        ("ok", "en"),
        ("soooo good", "en"),
        ("order at 5pm on the 2nd, arrived at 7pm", "en"),  # digits in English are not Arabizi
        ("الـ app حلو والـ delivery سريع", "ar"),  # mixed, Arabic-led
        ("the app is great يعطيكم العافية", "ar"),  # Arabic script makes an Arabic speaker
        ("great service, shukran", "en"),  # mixed, English-led
        ("le service est très lent", "other"),
        ("el servicio es muy malo", "other"),
        ("der Service ist nicht gut", "other"),
        ("доставка опоздала", "other"),
        ("配達が遅い", "other"),
        ("این برنامه خیلی خوب است", "other"),  # Persian, Arabic script
        ("👍👍", "other"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_hint_decides_only_when_the_text_does_not() -> None:
    assert detect_language("👍", hint="ar-SA") == "ar"
    assert detect_language("Kareem", hint="ar") == "ar"
    assert detect_language("the app is slow", hint="ar") == "en"
    assert detect_language("👍", hint="fr") == "other"
