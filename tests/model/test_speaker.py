"""What one speaker says (model/speaker.py) and where targets are referred to
(model/article/references.py): exact spans on small team-written texts."""

from __future__ import annotations

from model.article.references import target_head, target_references
from model.speaker import SpeakerStatements, speaker_forms, speaker_statements

RAIL = (
    "Transport Minister Elena Ruiz said the new high-speed rail line would transform the "
    "region, while the mayor of Tarvik, Jonas Eklund, called the line a costly mistake that "
    "bypasses his town."
)


def _texts(text: str, spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [text[lo:hi] for lo, hi in spans]


def test_speaker_absent_from_the_text() -> None:
    text = "Transport Minister Elena Ruiz said the new high-speed rail line would transform it."
    view = speaker_statements(text, "Jonas Eklund", "high-speed rail line")
    assert view == SpeakerStatements("Jonas Eklund", False, None, (), ())
    assert not view.mentions_target


def test_two_speakers_in_one_sentence() -> None:
    eklund = speaker_statements(RAIL, "Jonas Eklund", "high-speed rail line")
    assert eklund.found and eklund.name == "Jonas Eklund"
    assert eklund.statements == ((98, 189),)
    assert _texts(RAIL, eklund.statements) == [
        "the mayor of Tarvik, Jonas Eklund, called the line a costly mistake that bypasses his "
        "town."
    ]
    # The speaker calls the target by a shorter name: "the line".
    assert _texts(RAIL, eklund.mentions) == ["the line"]
    ruiz = speaker_statements(RAIL, "Elena Ruiz", "high-speed rail line")
    assert _texts(RAIL, ruiz.statements) == [
        "Transport Minister Elena Ruiz said the new high-speed rail line would transform the region"
    ]
    assert ruiz.mentions == ((43, 63),)


def test_speaker_asked_for_by_role() -> None:
    view = speaker_statements(RAIL, "the mayor of Tarvik", "high-speed rail line")
    assert view.found and view.statements == ((98, 189),) and view.mentions == ((140, 148),)


def test_speaker_referred_to_by_title() -> None:
    text = (
        "Aviation Minister Dominic Achterberg approved the third runway at Holmfield Airport "
        "on Tuesday. The minister said the runway would create twelve thousand jobs. Parish "
        "council chair Wendy Tarrant said the runway would make life unbearable."
    )
    view = speaker_statements(text, "Dominic Achterberg", "third runway at Holmfield Airport")
    assert view.name == "Dominic Achterberg"
    # The first sentence is his too: he is its subject ("approved the third runway").
    assert _texts(text, view.statements) == [
        "Aviation Minister Dominic Achterberg approved the third runway at Holmfield Airport "
        "on Tuesday.",
        "The minister said the runway would create twelve thousand jobs.",
    ]
    assert _texts(text, view.mentions) == ["third runway at Holmfield Airport", "the runway"]


def test_speaker_referred_to_by_pronoun() -> None:
    text = (
        "Cycling campaigner Ada Brennan praised the Harbour Road bike lane. “It is the first "
        "time this city has put cyclists first,” she said. Taxi driver Yusuf Demir said the "
        "lane had doubled journey times."
    )
    view = speaker_statements(text, "Ada Brennan", "Harbour Road bike lane")
    assert _texts(text, view.statements) == [
        "Cycling campaigner Ada Brennan praised the Harbour Road bike lane.",
        "“It is the first time this city has put cyclists first,” she said.",
    ]
    assert _texts(text, view.mentions) == ["Harbour Road bike lane", "It"]
    demir = speaker_statements(text, "Yusuf Demir", "Harbour Road bike lane")
    assert _texts(text, demir.statements) == [
        "Taxi driver Yusuf Demir said the lane had doubled journey times."
    ]
    assert _texts(text, demir.mentions) == ["the lane"]


def test_speaker_found_but_silent_about_the_target() -> None:
    text = (
        "Transport Minister Elena Ruiz said the new high-speed rail line would transform the "
        "region. Jonas Eklund said the harvest had been the best in years."
    )
    view = speaker_statements(text, "Jonas Eklund", "high-speed rail line")
    assert view.found and view.name == "Jonas Eklund"
    assert _texts(text, view.statements) == [
        "Jonas Eklund said the harvest had been the best in years."
    ]
    assert view.mentions == () and not view.mentions_target


def test_quote_spanning_paragraphs() -> None:
    text = (
        "Energy Minister Tove Rasmussen spoke about the Skarv interconnector on Thursday.\n\n"
        "“The interconnector lets us sell our surplus wind power abroad.\n\n"
        "“It will also bring down bills for every household in the north,” Rasmussen said.\n\n"
        "Industry chief Lorenzo Gatti said the interconnector would import high prices."
    )
    view = speaker_statements(text, "Tove Rasmussen", "Skarv interconnector")
    assert _texts(text, view.statements) == [
        "Energy Minister Tove Rasmussen spoke about the Skarv interconnector on Thursday.",
        "“The interconnector lets us sell our surplus wind power abroad.",
        "“It will also bring down bills for every household in the north,” Rasmussen said.",
    ]
    assert _texts(text, view.mentions) == ["Skarv interconnector", "The interconnector", "It"]
    gatti = speaker_statements(text, "Lorenzo Gatti", "Skarv interconnector")
    assert _texts(text, gatti.statements) == [
        "Industry chief Lorenzo Gatti said the interconnector would import high prices."
    ]


def test_speaker_introduced_only_by_role() -> None:
    text = (
        "“The Brenmoor bypass will take the lorries out of our high street,” a spokeswoman for "
        "the county council said. A spokesman for the residents' group said it would only "
        "move the traffic jams east."
    )
    council = speaker_statements(text, "a spokeswoman for the county council", "Brenmoor bypass")
    assert _texts(text, council.statements) == [
        "“The Brenmoor bypass will take the lorries out of our high street,” a spokeswoman "
        "for the county council said."
    ]
    residents = speaker_statements(text, "a spokesman for the residents' group", "Brenmoor bypass")
    assert _texts(text, residents.statements) == [
        "A spokesman for the residents' group said it would only move the traffic jams east."
    ]
    assert _texts(text, residents.mentions) == ["it"]


def test_a_group_of_people_is_a_speaker() -> None:
    text = (
        "Mayor Ana Lind said the bypass would take lorries out of the centre, but local "
        "residents said it would cut the village in two. “It is vandalism,” the protesters said."
    )
    residents = speaker_statements(text, "residents", "bypass")
    # Found by its words in "local residents said" (no entity is named just "residents").
    assert (residents.found, residents.name) == (True, None)
    assert _texts(text, residents.statements) == [
        "local residents said it would cut the village in two."
    ]
    assert _texts(text, residents.mentions) == ["it"]
    protesters = speaker_statements(text, "the protesters", "bypass")
    assert protesters.name == "protesters"
    assert _texts(text, protesters.statements) == ["“It is vandalism,” the protesters said."]
    assert _texts(text, protesters.mentions) == ["It"]


def test_target_head() -> None:
    assert target_head("high-speed rail line") == "line"
    assert target_head("closure of the Halden maternity ward") == "closure"
    assert target_head("Winter Games") is None


def test_target_references_short_names_and_indirect_ones() -> None:
    text = (
        "The council approved the tram plan. Mayor Ito said the plan was overdue. Critic "
        "Berg said it is time to stop. Critic Lund said that decision was wrong. Critic Moe "
        "said the new plan is good."
    )
    scopes = [(36, 70), (71, 105), (106, 150)]
    refs = target_references(text, "tram plan", None, scopes)
    # "it is time" refers to nothing; "said the" is not a modifier of "plan".
    assert [text[lo:hi] for lo, hi in refs] == [
        "tram plan",
        "the plan",
        "that decision",
        "the new plan",
    ]


def test_a_head_found_alone_is_widened_to_its_short_name() -> None:
    text = "The salary cap works, Okoro said. Vidic said the cap was driving players abroad."
    cap = text.index("cap was")
    # The caller found the bare head "cap": it is marked as "the cap", the span short names
    # get everywhere else; the full name stays as found, without its determiner.
    refs = target_references(text, "salary cap", [(4, 14), (cap, cap + 3)])
    assert [text[lo:hi] for lo, hi in refs] == ["salary cap", "the cap"]
    # A one-word target is its own full name: the caller's "cap" is not widened ("The
    # salary cap" is a short name found by its head, as without a caller's mention).
    assert target_references(text, "cap", [(cap, cap + 3)]) == [(0, 14), (cap, cap + 3)]


def test_indirect_reference_skips_a_statement_naming_another_target() -> None:
    text = (
        "The port authority built the terminal. "
        "Holm said the terminal was unacceptable because it had taken the moorings."
    )
    scope = [(39, len(text))]
    # Alone, "it" in Holm's statement would be read as the port authority ...
    assert target_references(text, "port authority", None, scope) == [(4, 18), (87, 89)]
    # ... but the statement names the terminal, another target asked about: "it" is that.
    others = [(49, 61)]
    assert text[49:61] == "the terminal"
    assert target_references(text, "port authority", None, scope, others) == [(4, 18)]


def test_target_references_without_any_mention() -> None:
    assert target_references("Critics said it was wrong.", "tram plan", None, [(0, 26)]) == []


def test_pronoun_cue_goes_to_the_speaker_attribution_resolved_not_the_last_clause() -> None:
    # Eklund's clause comes last, but "she said" continues Ruiz (attribution's speaker).
    text = RAIL + " “It will cut journeys in half,” she said."
    ruiz = speaker_statements(text, "Elena Ruiz", "high-speed rail line")
    assert _texts(text, ruiz.statements)[1:] == ["“It will cut journeys in half,” she said."]
    eklund = speaker_statements(text, "Jonas Eklund", "high-speed rail line")
    assert eklund.statements == ((98, 189),)


def test_speaker_forms_take_the_name_out_of_a_role_phrase() -> None:
    assert speaker_forms("Mopti regional governor Amadou Sissoko") == [
        "mopti regional governor amadou sissoko",
        "amadou sissoko",
        "sissoko",
    ]
    # The name after "for" is whom the lawyer works for, not the speaker.
    assert speaker_forms("a lawyer for Roth") == ["a lawyer for roth", "lawyer for roth"]
    text = (
        "The governor of Mopti region, Amadou Sissoko, said the food convoy had reached every "
        "village."
    )
    view = speaker_statements(text, "Mopti regional governor Amadou Sissoko", "food convoy")
    assert view.found and view.statements == ((0, len(text)),)


def test_a_gerund_target_is_referred_to_by_its_action_noun_not_its_object() -> None:
    text = (
        "Merging the Eastfield and Lowfield schools will give pupils better labs, the "
        "director said. Parent Chloe Barnes said the merger would mean classes of forty. "
        "Teacher Ann Roe said the schools were full."
    )
    refs = target_references(text, "merging the Eastfield and Lowfield schools")
    # "the merger" is the action; "the schools" (its object) is not the merger.
    assert [text[lo:hi] for lo, hi in refs] == [
        "Merging the Eastfield and Lowfield schools",
        "the merger",
    ]
    barnes = speaker_statements(text, "Chloe Barnes", "merging the Eastfield and Lowfield schools")
    assert barnes.mentions_target and _texts(text, barnes.mentions) == ["the merger"]


DAY_CENTRE = (
    "The county council voted on Tuesday to close the Harrow Street day centre. Council clerk "
    "Ian Moss said that decision would take effect in June. Carer Beth Lyle said closing the "
    "centre would leave forty families with nowhere to go, and that closing the school next "
    "door would be worse."
)


def test_a_target_named_by_its_action_noun_is_referred_to_by_the_verb() -> None:
    target = "Harrow Street day centre closure"
    refs = target_references(DAY_CENTRE, target)
    # The verb phrase up to the action's object; "closing the school" has another object.
    assert _texts(DAY_CENTRE, refs) == ["close the Harrow Street day centre", "closing the centre"]
    lyle = speaker_statements(DAY_CENTRE, "Beth Lyle", target)
    assert lyle.mentions_target and _texts(DAY_CENTRE, lyle.mentions) == ["closing the centre"]
    # "that decision" in a statement after the first reference is the closure too.
    moss = speaker_statements(DAY_CENTRE, "Ian Moss", target)
    assert moss.mentions_target and _texts(DAY_CENTRE, moss.mentions) == ["that decision"]
    # "the closure of <object>" names the object after "of" (up to the next preposition).
    text = (
        "The board backed the closure. Nurses said closing the ward hurt; closing the clinic too."
    )
    for named in ("the closure of the maternity ward", "closure of the maternity ward at Leeds"):
        assert _texts(text, target_references(text, named)) == ["the closure", "closing the ward"]
    # Only the target's own words may stand between the determiner and the object.
    for other in (
        "The mayor closed the meeting at the day centre.",
        "They are closing the gap between the centre and the town.",
    ):
        assert target_references(other, "Harrow Street day centre closure") == []
