"""Where a target is referred to, also indirectly: "the line", "the pact", "it".

A speaker who says "it", "the line" or "that decision" about a target named earlier is
talking about that target. Rules, one pass over the text each (linear):

- literal mentions: the caller's, or found by string matching (model.text.find_mentions);
  for a multi-word name also its last word once the name occurred ("the Games" after "the
  Winter Games");
- short names: a determiner ("the", "this", "that", "its", "their"), up to three lower-case
  modifiers and the target's head noun or a synonym of it ("the line" and "the new line"
  for "high-speed rail line"; "the pact" for "fisheries agreement"). The head is the word
  before the target's first preposition, else its last word ("closure of the ward" ->
  closure); names (capitalised heads) have none;
- indirect references, only inside the given *scopes* (a speaker's statements) that hold
  no other reference and start after the target's first one: the first generic noun phrase
  ("that decision", "the move", "the plan") or non-expletive "it" (also "they" for a plural
  target; never "it is time", "it said").

A target that opens with a gerund names an action ("merging the two schools", "closing the
ward"); its short name is the action's noun ("the merger", "the closure"), not its object
("the schools" is not the merger), for the gerunds in ``_GERUND_NOUNS``. The other way
round, a target named by the action's noun ("Marsh Lane walk-in centre closure", "closure of
the ward") is referred to by the verb phrase up to the object ("voted to close the Marsh Lane
walk-in centre", "closing the centre"), for the nouns in ``_NOUN_VERBS``.

Limits: "it" may refer to something else named in between; the synonym, gerund and
action-noun lists are short and closed; the verb phrase is matched in the singular and
without particles ("closing the wards", "close down the ward" are not found).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from model.article.lexicon import PREPOSITIONS, STOP_WORDS, VERB_RE, words
from model.article.spans import Areas
from model.text import find_mentions
from model.types import Span

# Nouns a speaker uses for "the thing just named": "that decision", "the move".
_GENERIC_REF = re.compile(
    r"(?<!\w)(?:that|this|the)\s+(?:decision|move|step|plan|scheme|measure|policy|proposal|"
    r"idea|project|deal|change|reform|ruling|initiative|programme|program)(?!\w)",
    re.IGNORECASE,
)
_IT = re.compile(r"(?<!\w)it(?!\w)", re.IGNORECASE)
_IT_OR_THEY = re.compile(r"(?<!\w)(?:it|they|them)(?!\w)", re.IGNORECASE)
# "it" that refers to nothing: "it is time", "it is clear that", "it seems".
_EXPLETIVE = re.compile(
    r"\s+(?:is|was|will\s+be|would\s+be)\s+(?:not\s+)?(?:time|clear|likely|unlikely|possible|"
    r"impossible|important|necessary|hard|difficult|easy|true|too|vital|essential|unclear)\b"
    r"|\s+(?:seems|seemed|appears|appeared|remains\s+to|takes|took)\b",
    re.IGNORECASE,
)
# Head nouns that name the same kind of thing ("the pact" for "the fisheries agreement").
_SYNONYM_SETS = (
    words("pact deal agreement accord treaty"),
    words("ruling decision verdict judgment judgement"),
    words("plan scheme programme program project proposal initiative"),
    words("law bill act legislation"),
    words("tax levy charge duty"),
    words("ban prohibition"),
    words("merger takeover deal"),
    words("line railway rail route link"),
)
# The noun of an action named by a gerund ("merging the schools" -> "the merger").
_GERUND_NOUNS: dict[str, tuple[str, ...]] = {
    "merging": ("merger",),
    "closing": ("closure",),
    "banning": ("ban",),
    "cutting": ("cut", "cuts"),
    "privatising": ("privatisation", "sale"),
    "privatizing": ("privatization", "sale"),
    "expanding": ("expansion",),
    "extending": ("extension",),
    "selling": ("sale",),
    "reducing": ("reduction", "cut"),
    "introducing": ("introduction",),
    "raising": ("rise", "increase"),
    "relocating": ("relocation", "move"),
    "demolishing": ("demolition",),
}
# The verb of an action named by its noun, for a target such as "Marsh Lane walk-in centre
# closure" in a text that says "voted to close the Marsh Lane walk-in centre" or "closing the
# centre": the verb phrase up to the action's object is a reference to the target.
_NOUN_VERBS: dict[str, str] = {
    "closure": r"clos(?:e|es|ed|ing)",
    "merger": r"merg(?:e|es|ed|ing)",
    "ban": r"ban(?:s|ned|ning)?",
    "expansion": r"expand(?:s|ed|ing)?",
    "extension": r"extend(?:s|ed|ing)?",
    "sale": r"(?:sell(?:s|ing)?|sold)",
    "demolition": r"demolish(?:es|ed|ing)?",
    "relocation": r"relocat(?:e|es|ed|ing)",
    "privatisation": r"privatis(?:e|es|ed|ing)",
    "privatization": r"privatiz(?:e|es|ed|ing)",
    "reopening": r"reopen(?:s|ed|ing)?",
    "removal": r"remov(?:e|es|ed|ing)",
}
_OBJECT_WORDS = 5  # target words allowed between the verb's determiner and its object
_SHORT_NAME_DETERMINERS = words("the this that its their")
_SHORT_NAME_REACH = 80  # characters before a head searched for its determiner
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*|[^\w\s]")


def target_head(target: str) -> str | None:
    """The head noun of a target phrase: the word before its first preposition, else its
    last word ("closure of the ward" -> closure, "high-speed rail line" -> line); None for a
    name (capitalised) or a short function word."""
    ws: list[str] = re.findall(r"[\w'’-]+", target)
    for i, w in enumerate(ws):
        if i > 0 and w.lower() in PREPOSITIONS:
            ws = ws[:i]
            break
    if not ws:
        return None
    head = ws[-1]
    if head[:1].isupper() or len(head) < 3 or not head.isalpha():
        return None
    return head.lower()


def _heads(head: str) -> list[str]:
    out = {head}
    for group in _SYNONYM_SETS:
        if head in group:
            out |= group
    return sorted(out)


def target_references(
    text: str,
    target: str,
    mentions: Sequence[Span] | None = None,
    scopes: Sequence[Span] = (),
    others: Sequence[Span] = (),
) -> list[Span]:
    """Where ``target`` is referred to (rule 4 of the module docstring), sorted.

    ``mentions``: the caller's literal mentions (None: found by string matching).
    ``scopes``: statement spans in which an indirect reference ("it", "that decision") is
    looked for when they hold no other reference and start after the target's first one.
    ``others``: mentions of the other targets asked about; a scope naming one of them is
    skipped, since its "it" most likely means the thing it names ("the terminal was
    unacceptable because it took the moorings" says nothing about the port authority).
    """
    explicit = sorted(mentions) if mentions is not None else find_mentions(text, target)
    words_ = target.split()
    if explicit and len(words_) > 1 and words_[-1][:1].isupper() and len(words_[-1]) >= 3:
        # "the Games" after "the Winter Games": the last word of a name, once it was named.
        explicit = sorted({*explicit, *find_mentions(text, words_[-1])})
        explicit = [s for i, s in enumerate(explicit) if i == 0 or s[0] >= explicit[i - 1][1]]
    found = Areas(explicit)
    refs = list(explicit)
    head = target_head(target)
    actions = _GERUND_NOUNS.get(words_[0].lower(), ()) if words_ else ()
    heads = (
        sorted({h for a in actions for h in _heads(a)}) if actions else _heads(head) if head else []
    )
    if heads:
        pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(h) for h in heads) + r")(?!\w)", re.I
        )
        # A head found alone ("cap" for "salary cap", by the caller or as the last-word
        # variant) is widened to its short name ("the cap"), the span the model was
        # trained to see marked; a full name ("salary cap", "tariffs") stays as it is.
        name = " ".join(target.split()).casefold()
        bare = {
            span: i
            for i, span in enumerate(refs)
            if " ".join(text[span[0] : span[1]].split()).casefold() != name
        }
        for match in pattern.finditer(text):
            start = _short_name_start(text, match.start())
            if start is None:
                continue
            if not found.overlapping(start, match.end()):
                refs.append((start, match.end()))
            elif match.span() in bare:
                refs[bare[match.span()]] = (start, match.end())
    if head in _NOUN_VERBS and not actions:
        named = Areas(sorted(refs))  # built once: the verb phrases never overlap each other
        refs += [
            span for span in _action_phrases(text, head, target) if not named.overlapping(*span)
        ]
    refs.sort()
    if not refs:
        return []
    first = refs[0][0]
    taken = Areas(refs)
    elsewhere = Areas(sorted(others))
    for lo, hi in scopes:
        if lo < first or taken.overlapping(lo, hi) or elsewhere.overlapping(lo, hi):
            continue
        plural = head is not None and _plural(head) and not target.split()[0].endswith("ing")
        indirect = _indirect(text, lo, hi, plural=plural)
        if indirect is not None:
            refs.append(indirect)
    return sorted(refs)


def _action_phrases(text: str, noun: str, target: str) -> list[Span]:
    """Verb phrases that name the action of a target called by its action noun: "close the
    Marsh Lane walk-in centre", "closing the centre" for "Marsh Lane walk-in centre closure"
    (object: the word before the noun) or "the closure of the maternity ward" (object: the
    last word of the of-phrase). Between the determiner and the object only the target's own
    words may stand, so "closed the meeting at the day centre" is not the centre's closure.
    Empty when the target has no object word."""
    ws = [w.lower() for w in re.findall(r"[\w'’-]+", target)]
    if noun not in ws:
        return []
    at = ws.index(noun)
    if at + 2 < len(ws) and ws[at + 1] == "of":
        rest = ws[at + 2 :]
        cut = next((i for i, w in enumerate(rest) if w in PREPOSITIONS), len(rest))
        obj = rest[cut - 1] if cut else ""  # "closure of the ward at X" -> ward
    elif at > 0:
        obj = ws[at - 1]
    else:
        return []
    if not obj.isalpha() or len(obj) < 3 or obj in STOP_WORDS:
        return []
    modifiers = sorted({w for w in ws if w not in (noun, obj, "of") and w not in STOP_WORDS})
    between = "|".join(re.escape(w) for w in modifiers) or r"(?!)"
    pattern = re.compile(
        rf"(?<!\w){_NOUN_VERBS[noun]}\s+(?:the|its|their|this|that)\s+"
        rf"(?:(?:{between})\s+){{0,{_OBJECT_WORDS}}}{re.escape(obj)}(?!\w)",
        re.IGNORECASE,
    )
    return [m.span() for m in pattern.finditer(text)]


def _short_name_start(text: str, head_start: int) -> int | None:
    """Where the short name ending in the head at ``head_start`` begins: at its determiner,
    with at most three lower-case content words between ("the new line"); None when the
    head has no determiner ("said the runway" is not a modifier of it)."""
    before = text[max(0, head_start - _SHORT_NAME_REACH) : head_start]
    offset = head_start - len(before)
    tokens = list(_TOKEN.finditer(before))
    for k in range(len(tokens) - 1, max(-1, len(tokens) - 5), -1):
        word = tokens[k].group()
        if word.lower() in _SHORT_NAME_DETERMINERS:
            return offset + tokens[k].start()
        modifiers = len(tokens) - 1 - k
        if (
            modifiers >= 3
            or not word[:1].islower()
            or word in STOP_WORDS
            or VERB_RE.fullmatch(word)
        ):
            return None
    return None


def _plural(head: str) -> bool:
    return head.endswith("s") and not head.endswith(("ss", "us", "is"))


def _indirect(text: str, lo: int, hi: int, plural: bool = False) -> Span | None:
    """The first "that decision" or non-expletive "it" (also "they" for a plural target)
    in text[lo:hi], if any."""
    generic = _GENERIC_REF.search(text, lo, hi)
    pronoun = None
    for match in (_IT_OR_THEY if plural else _IT).finditer(text, lo, hi):
        rest = text[match.end() : min(hi, match.end() + 40)]
        if _EXPLETIVE.match(rest) or (VERB_RE.match(rest.lstrip()) and rest[:1] == " "):
            continue
        pronoun = match
        break
    candidates = [m for m in (generic, pronoun) if m is not None]
    if not candidates:
        return None
    best = min(candidates, key=lambda m: m.start())
    return best.span()
