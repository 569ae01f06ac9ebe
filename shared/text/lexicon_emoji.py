"""Emoji and emoticon valences (VADER's -4..4 scale); negation never flips them."""

from __future__ import annotations

EMOJI = {
    **dict.fromkeys("😍🥰😘❤💕💖💗💓💞💯🤩🥳🏆", 2.6),
    **dict.fromkeys("👍👌👏🙌💪🔝✅⭐🌟✨😊😁😀😃😄☺🙂😋😎🤗🎉💚💙💜🧡🤍🙏🌹😇", 1.8),
    **dict.fromkeys("😂🤣😅😉😜", 0.4),
    **dict.fromkeys("😐😑🤔🤷😶", 0.0),
    **dict.fromkeys("😕😒🙄😔😞😟😢😥😓😩😫😬🥲🙃💔👀⏳⌛", -1.4),
    **dict.fromkeys("👎😠😡🤬😤😭🤮🤢💩❌🚫😱😖😣🤦", -2.4),
    ":)": 1.8,
    ":-)": 1.8,
    ":d": 2.0,
    ":-d": 2.0,
    ";)": 1.0,
    ":p": 0.8,
    "<3": 2.4,
    ":(": -1.8,
    ":-(": -1.8,
    ":/": -1.0,
    ":|": -0.3,
}
