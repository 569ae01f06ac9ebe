"""Theme matching with the default taxonomy and with a taxonomy loaded as data."""

from __future__ import annotations

import pytest

from shared.text import DEFAULT_TAXONOMY, Taxonomy, ThemeMatcher, analyse

DEFAULT_KEYS = {
    "ease_of_use",
    "product_quality",
    "customer_service",
    "staff_friendliness",
    "speed_waiting",
    "price_value",
    "availability",
    "delivery",
    "website_app",
}
MATCHER = ThemeMatcher(DEFAULT_TAXONOMY)


def test_default_taxonomy_covers_the_required_drivers() -> None:
    assert {theme.key for theme in DEFAULT_TAXONOMY.themes} == DEFAULT_KEYS


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("the driver left my parcel in the rain", "delivery"),
        ("delivered to the wrong building", "delivery"),
        ("التوصيل تأخر", "delivery"),
        ("المندوب ما يرد", "delivery"),
        ("el delivery et2akhar", "delivery"),
        ("the app keeps crashing", "website_app"),
        ("التطبيق يعلق", "website_app"),
        ("الابلكيشن بطيء", "website_app"),
        ("waited 40 minutes in the queue", "speed_waiting"),
        ("استنيت ساعة", "speed_waiting"),  # Egyptian
        ("خلونا ننطر بالدور", "speed_waiting"),  # Levantine
        ("way too expensive", "price_value"),
        ("الاسعار غالية", "price_value"),
        ("بالسعر هذا ما يستاهل", "price_value"),
        ("out of stock again", "availability"),
        ("المنتج مش متوفر", "availability"),
        ("ما لقيت المقاس", "availability"),
        ("the cashier was rude", "staff_friendliness"),
        ("الموظفين بشوشين", "staff_friendliness"),
        ("customer service hung up on me", "customer_service"),
        ("خدمة العملاء ما ترد", "customer_service"),
        ("لخدمة العملاء", "customer_service"),  # clitic on the first word of a phrase
        ("the screen arrived cracked", "product_quality"),
        ("الجودة سيئة والخامة خفيفة", "product_quality"),
        ("very easy to use", "ease_of_use"),
        ("الموقع معقد", "ease_of_use"),
    ],
)
def test_default_themes(text: str, theme: str) -> None:
    assert theme in MATCHER.match(text)


def test_no_theme_for_an_unrelated_comment() -> None:
    assert MATCHER.match("hello") == ()


def test_themes_come_in_taxonomy_order_once_each() -> None:
    assert MATCHER.match("delivery late, delivery driver rude, app crashed") == (
        "staff_friendliness",
        "speed_waiting",
        "delivery",
        "website_app",
    )


def test_a_taxonomy_loaded_as_data() -> None:
    taxonomy = Taxonomy.from_dict(
        {"parking": {"label": "Parking", "keywords": ["parking", "park*", "مواقف", "باركنق"]}}
    )
    matcher = ThemeMatcher(taxonomy)
    assert matcher.match("no parking spots") == ("parking",)
    assert matcher.match("ما في مواقف للسيارات") == ("parking",)
    assert Taxonomy.from_dict(taxonomy.to_dict()) == taxonomy
    with pytest.raises(ValueError, match="keywords"):
        Taxonomy.from_dict({"bad": {"keywords": "parking"}})


def test_analyse_reports_themes() -> None:
    analysis = analyse("المندوب تأخر ساعتين")
    assert analysis is not None
    assert analysis.themes == ("speed_waiting", "delivery")
