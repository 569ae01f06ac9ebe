"""English sentiment data: VADER's lexicon (shipped in the vaderSentiment wheel) plus CX terms.

VADER's 7,500 general-purpose valences (-4..4) are read from the installed package, never
from the network. Customer-experience words VADER lacks or scores for social media
("late", "slow", "overpriced", "support" as a department) are set here on the same scale.
"""

from __future__ import annotations

from importlib import resources


def _words(block: str) -> list[str]:
    """Whitespace-separated words of a data block."""
    return block.split()


def _load_vader() -> dict[str, float]:
    """VADER's word valences from the package data, empty if the package is missing."""
    try:
        text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - dependency declared
        return {}
    valences: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].replace("'", "").isalpha():
            valences.setdefault(parts[0].replace("'", ""), float(parts[1]))
    return valences


CX_WORDS = """
fast 1.8 faster 1.5 quick 1.6 quickly 1.3 speedy 1.8 prompt 1.5 efficient 1.8 early 1.0 ontime 1.8
slow -1.8 slower -1.6 slowly -1.2 late -1.9 later 0 delayed -1.7 delay -1.6 delays -1.6
forever -1.5 ages -1.2 waited -1.2 waiting -0.8 wait -0.6 queue -0.6 queues -0.8 hold -0.3
cheap 0.6 affordable 1.9 reasonable 1.5 reasonably 1.0 competitive 1.3 pricey -1.5 expensive -1.6
overpriced -2.3 overcharged -2.3 overcharge -2.2 ripoff -2.8 rip -0.8 charged -0.6 scam -2.7
cold -1.0 stale -2.0 soggy -2.0 raw -1.2 salty -1.2 bland -1.5 expired -2.2 undercooked -2.0
tasty 2.2 yummy 2.3 delicious 2.7 fresh 1.5 hot 0.6 crispy 1.2 juicy 1.5
broken -2.1 cracked -1.8 damaged -2.0 scratch -1.2 scratched -1.6 dented -1.6 torn -1.5
crushed -1.8 soaked -1.5 leaking -1.6 faulty -2.2 defective -2.3 refurbished -1.0 used -0.3
crash -1.9 crashes -2.0 crashed -1.9 crashing -2.0 buggy -2.0 bugs -1.6 bug -1.4 glitch -1.6
glitchy -1.9 laggy -1.8 freezes -1.8 froze -1.7 freezing -1.3 frozen -0.8 lag -1.5
error -1.6 errors -1.6 spammy -1.8 confusing -1.8 complicated -1.4 clunky -1.7 outdated -1.2
intuitive 2.0 seamless 2.1 smooth 1.9 smoothly 1.6 convenient 1.9 reliable 2.0 flawless 2.8
userfriendly 2.0 simple 1.0 easy 1.9 easily 1.5 clean 1.6 tidy 1.5 organised 1.4 organized 1.4
dirty -2.0 filthy -2.6 messy -1.6 smelly -2.0 smelled -1.0 sticky -1.2 disgusting -2.9
polite 2.0 professional 1.9 unprofessional -2.4 courteous 2.0 attentive 1.8 patient 1.6
welcoming 2.1 knowledgeable 1.8 untrained -1.8 dismissive -2.0 ignored -2.0 ignore -1.2
rude -2.4 impolite -2.2 arrogant -2.2 shouting -1.8 argued -1.5 rolled -0.5
lost -1.6 missing -1.6 wrong -2.0 incorrect -1.8 misleading -2.0 inaccurate -1.6 fake -2.2
mess -1.8 nightmare -2.6 disaster -2.8 joke -1.4 useless -2.3 pathetic -2.6 horrible -2.6
unacceptable -2.4 ridiculous -1.8 insane -1.2 crazy -0.8 regret -2.0 frustrating -2.1
shrank -1.6 stopped -0.8 refund -0.4 return 0 returns -0.2 cancelled -1.2 canceled -1.2
recommend 1.9 recommended 1.8 legend 2.2 kudos 2.3 shoutout 1.8 respect 1.5 professionally 1.6
appreciated 1.9 helped 1.4 solved 1.6 resolved 1.6 fixed 1.2 exceeded 1.2 premium 1.5
ok 0.3 okay 0.3 fine 0.3 alright 0.4 average 0 standard 0 normal 0 usual 0 meh -0.3
please 0 like 1.0 help 0.6 support 0 care 0 sure 0 yeah 0 lol 0 haha 0.5 joke -1.4 top 1.5
transferred -1.0 transferring -1.2 smoking -1.5 unhelpful -2.0 unfriendly -2.0 gift 0 sell 0
issue -1.2 issues -1.4
free 0.8 no 0 yes 0 well 0.3 want 0 need 0 funny 0 kind 2.0 thx 1.2 thank 1.6 thanks 1.8
"""

CX_PHRASES = """
on time|1.8 right on time|2.0 took forever|-2.4 takes forever|-2.4 waste of money|-2.8
waste of time|-2.6 never again|-2.6 rip off|-2.6 ripped off|-2.8 hung up|-1.8 hang up|-1.6
thanks for nothing|-2.6 good job|2.4 well done|2.4 great job|2.6 top notch|2.6 5 stars|2.5
five stars|2.5 1 star|-2.5 one star|-2.5 zero stars|-2.8 out of stock|-1.6 not worth|-2.0
cant complain|1.6 no complaints|1.8 above and beyond|2.6 extra mile|2.4 user friendly|2.0
give me a break|-1.6 the best|0.6 worth it|1.8 worth every|2.2 spot on|2.2 so so|-0.2
not bad|1.2 not too bad|0.9 a joke|-2.0 no response|-1.8 never received|-2.2
not received|-1.6 yeah right|-2.0 just what i needed|-2.0 nothing like|-1.6
could be better|-1.0 gone downhill|-2.4
"""

# Words neutral on their own that turn negative under negation ("doesn't work", "no reply").
NEGATED_ONLY = {
    w: -1.6
    for w in _words("""
work works working worked answer answered answers answering reply replied replies respond
responded response pick picks picked arrive arrived arrives received receive come came show
showed showing call called calls help helped helps contact reached reach load loads loading
open opens respond apply honour honor accept accepts buy order ordering again available
update updates updated find found match matches care cares apologize apologise apologized
apologised refund refunded fix fixed charge charges told informed notified
""")
}

NEGATORS = frozenset(
    _words("""
not no never nothing nobody none neither nor without cannot cant dont doesnt didnt isnt
wasnt arent werent wont wouldnt couldnt shouldnt havent hasnt hadnt aint hardly barely noone
nowhere lack lacks lacking
""")
)

INTENSIFIERS = {
    **dict.fromkeys(
        _words("""
very really so too extremely super totally absolutely incredibly truly highly so completely
utterly seriously insanely hugely way most especially damn
"""),
        0.35,
    ),
    **dict.fromkeys(
        _words("""
quite pretty fairly
"""),
        0.15,
    ),
    **dict.fromkeys(
        _words("""
slightly somewhat kinda kindof barely little bit
"""),
        -0.3,
    ),
}

CONTRASTS = frozenset(
    _words("""
but however although though yet except
""")
)

VADER = _load_vader()
