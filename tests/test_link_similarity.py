"""storage.link_similarity: which recommendations ask for the same thing.

tests/fixtures/links_small.csv holds 36 short recommendations written for
these tests in the style of the UPR, CEDAW, CRC, CAT and special procedures,
to two fictional States (Arcadia, Borduria), in English, French and Spanish.
Its `group` column is the answer a person gives (the same act asked of the
State); a blank group is a recommendation like no other. The measured
precision and recall on real UN texts are bench/links_bench.py's job; the
speed at 3,000 recommendations too (not timed here).
"""

from __future__ import annotations

import csv
import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from storage import link_similarity
from storage.link_similarity import LinkItem, SuggestedGroup, normalise, suggest_groups

FIXTURE = Path(__file__).parent / "fixtures" / "links_small.csv"
ROOT = Path(__file__).resolve().parent.parent


def _set(cell: str) -> frozenset[str]:
    return frozenset(v for v in cell.split(";") if v)


def _fixture() -> tuple[list[LinkItem], dict[int, str]]:
    items, gold = [], {}
    with FIXTURE.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            rec_id = int(row["id"])
            items.append(LinkItem(
                id=rec_id, text=row["text"], mechanism=row["mechanism"], country=row["country"],
                themes=_set(row["themes"]), affected=_set(row["affected"]), sdgs=_set(row["sdgs"]),
            ))
            if row["group"]:
                gold[rec_id] = row["group"]
    return items, gold


def _together(groups: list[SuggestedGroup], a: int, b: int) -> bool:
    return any(a in g.member_ids and b in g.member_ids for g in groups)


def test_every_labelled_group_is_suggested_exactly() -> None:
    items, gold = _fixture()
    groups = suggest_groups(items)
    wanted: dict[str, list[int]] = defaultdict(list)
    for rec_id, label in gold.items():
        wanted[label].append(rec_id)
    suggested = {g.member_ids for g in groups}
    for label, members in wanted.items():
        assert tuple(sorted(members)) in suggested, label
    # and no suggestion mixes two labelled groups
    for g in groups:
        assert len({gold[m] for m in g.member_ids if m in gold}) <= 1, g


def test_same_theme_different_ask_is_not_grouped() -> None:
    items, _ = _fixture()
    groups = suggest_groups(items)
    # OP-CAT (1-5) against the Convention itself (23); ICCPR (21, 22) against ICESCR (24)
    for opcat in (1, 2, 3, 4, 5):
        assert not _together(groups, opcat, 23)
    assert not _together(groups, 21, 24) and not _together(groups, 22, 24)
    # abolition against a moratorium; a trafficking law against police training
    assert not _together(groups, 28, 29)
    assert not _together(groups, 32, 36) and not _together(groups, 33, 36)
    # the marriage age and marital rape share "marital"/"marriage" and the tags
    for age in (12, 13, 14):
        for rape in (6, 7, 8):
            assert not _together(groups, age, rape)


def test_a_treaty_named_differently_is_the_same_treaty() -> None:
    spelt = normalise("Ratify the Optional Protocol to the Convention against Torture and Other Cruel, Inhuman or Degrading Treatment or Punishment")
    assert spelt == normalise("Ratify the OP-CAT") == "ratify the opcat"
    assert normalise("Ratifier le Protocole facultatif se rapportant à la Convention contre la torture") == "ratifier le opcat"
    assert normalise("Ratificar el Pacto Internacional de Derechos Civiles y Políticos") == "ratificar el iccpr"
    assert normalise("Ratify the Second Optional Protocol to the International Covenant on Civil and Political Rights") == "ratify the iccprop2"
    groups = suggest_groups([
        LinkItem(1, "Ratify the Convention against Torture", "UPR", "Arcadia"),
        LinkItem(2, "Ratify CAT", "UPR", "Arcadia"),
        LinkItem(3, "Accelerate the ratification process of ICCPR", "UPR", "Arcadia"),
        LinkItem(4, "Accelerate the ratification process of ICESCR", "UPR", "Arcadia"),
    ])
    assert [g.member_ids for g in groups] == [(1, 2)]


def test_numbering_and_recommending_state_are_ignored() -> None:
    assert normalise("118.5 Ratify OP-CAT (Denmark);") == normalise("Ratify OP-CAT")
    assert normalise("Recommending State: Chile. Criminalise marital rape") == normalise("criminalise marital rape")
    assert normalise("To abolish the death penalty.") == "abolish the death penalty"


def test_tags_alone_never_link_two_texts() -> None:
    tags = {"themes": frozenset({"Women's rights"}), "affected": frozenset({"women"}), "sdgs": frozenset({"5.2"})}
    groups = suggest_groups([
        LinkItem(1, "Criminalize marital rape", "UPR", "Arcadia", **tags),
        LinkItem(2, "Raise public awareness of gender stereotypes", "CEDAW", "Arcadia", **tags),
    ])
    assert groups == []


def test_tags_raise_a_score_but_only_one_text_scores_one() -> None:
    tags = {"themes": frozenset({"Death penalty"}), "sdgs": frozenset({"16.1"})}
    texts = ("Abolish the death penalty for all crimes", "Abolish the death penalty in law for all crimes")
    bare = suggest_groups([LinkItem(k, t, "UPR", "Arcadia") for k, t in enumerate(texts, 1)])
    tagged = suggest_groups([LinkItem(k, t, "UPR", "Arcadia", **tags) for k, t in enumerate(texts, 1)])
    assert [g.member_ids for g in bare] == [g.member_ids for g in tagged] == [(1, 2)]
    assert bare[0].score < tagged[0].score < 1.0


def test_recommendations_to_different_states_never_mix() -> None:
    items, _ = _fixture()
    country = {i.id: i.country for i in items}
    groups = suggest_groups(items)
    for g in groups:
        assert len({country[m] for m in g.member_ids}) == 1
    assert (30, 31) in {g.member_ids for g in groups}
    # the same text to two States: two groups, not one of four
    twins = [LinkItem(k, "Criminalize marital rape", "UPR", state) for k, state in ((1, "Arcadia"), (2, "Borduria"), (3, "Arcadia"), (4, "borduria"))]
    assert [g.member_ids for g in suggest_groups(twins)] == [(1, 3), (2, 4)]


def test_french_and_spanish_texts_are_grouped_with_their_own() -> None:
    items, _ = _fixture()
    groups = {g.member_ids for g in suggest_groups(items)}
    assert (32, 33) in groups  # "traite des êtres humains"
    # "violación" and "violacion": accents folded; and since the term list
    # (storage/link_terms.py) bridges the languages, with the English asks
    # for the same act ("criminalize marital rape"), as the labels' rule
    # has it (bench/README-links.md: the same act, whatever the wording).
    assert (6, 7, 8, 34, 35) in groups
    assert (1, 2, 3, 4, 5) in groups  # the French OP-CAT text with the English ones


def test_output_is_sorted_and_deterministic() -> None:
    items, _ = _fixture()
    first = suggest_groups(items)
    shuffled = items[:]
    random.Random(7).shuffle(shuffled)
    assert suggest_groups(shuffled) == first == suggest_groups(items)
    assert [g.member_ids for g in first] == sorted(g.member_ids for g in first)
    for g in first:
        assert list(g.member_ids) == sorted(g.member_ids) and len(g.member_ids) >= 2
        assert 0.0 <= g.score <= 1.0


def test_empty_and_single_inputs() -> None:
    assert suggest_groups([]) == []
    assert suggest_groups([LinkItem(1, "Abolish the death penalty", "UPR", "Arcadia")]) == []
    # texts with no words are like nothing, not like each other
    assert suggest_groups([LinkItem(1, "", "UPR", "Arcadia"), LinkItem(2, " ... ", "UPR", "Arcadia"), LinkItem(3, "Ratify CAT", "UPR", "Arcadia")]) == []
    same = suggest_groups([LinkItem(2, "Abolish the death penalty", "UPR", "Arcadia"), LinkItem(1, "Abolish the death penalty.", "CCPR", "Arcadia")])
    assert same == [SuggestedGroup((1, 2), 1.0)]


def test_bad_arguments_are_refused() -> None:
    one = [LinkItem(1, "Abolish the death penalty", "UPR", "Arcadia")]
    with pytest.raises(ValueError, match="threshold"):
        suggest_groups(one, threshold=0)
    with pytest.raises(ValueError, match="threshold"):
        suggest_groups(one, threshold=1.5)
    with pytest.raises(ValueError, match="max_group"):
        suggest_groups(one, max_group=1)
    with pytest.raises(ValueError, match="once"):
        suggest_groups(one + one)


def _three_hundred() -> list[LinkItem]:
    """300 recommendations to one State: the fixture's texts, each many
    times over with small variations, so groups far larger than 50 would
    form if nothing capped them."""
    items, _ = _fixture()
    rng = random.Random(300)
    tails = ("", " without delay", " as soon as possible", " in line with international standards", " as previously recommended")
    out = []
    for k in range(300):
        base = items[k % len(items)]
        out.append(LinkItem(k + 1, base.text + rng.choice(tails), base.mechanism, "Arcadia", base.themes, base.affected, base.sdgs))
    return out


@pytest.mark.parametrize("max_group", [50, 6])
def test_no_group_grows_over_max_group(max_group: int) -> None:
    groups = suggest_groups(_three_hundred(), max_group=max_group)
    assert groups
    assert max(len(g.member_ids) for g in groups) <= max_group
    seen = [m for g in groups for m in g.member_ids]
    assert len(seen) == len(set(seen))  # each recommendation in one group at most


def test_a_large_chain_is_split_before_clustering(monkeypatch: pytest.MonkeyPatch) -> None:
    # Average linkage needs every pair; above LINKAGE_LIMIT the component is
    # cut at higher thresholds first. Small limit here, same guarantees.
    monkeypatch.setattr(link_similarity, "LINKAGE_LIMIT", 40)
    groups = suggest_groups(_three_hundred())
    assert groups and max(len(g.member_ids) for g in groups) <= 40
    seen = [m for g in groups for m in g.member_ids]
    assert len(seen) == len(set(seen))


def test_importing_the_module_does_not_load_scikit_learn() -> None:
    # The command line starts without scikit-learn (issue 18).
    code = "import sys, storage.link_similarity; sys.exit('sklearn' in sys.modules or 'scipy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0


# A committee paragraph that asks four things, as concluding observations
# write them, and a fifth request to report back.
_ITEM_B = "Raise the minimum age of marriage to 18 years for both girls and boys, without exception"
_PARAGRAPH = (
    "The Committee recommends that the State party: (a) Adopt temporary special measures, such as quotas, to increase the number of women in elected and appointed "
    "positions in public life, including in the diplomatic service and the judiciary; "
    f"(b) {_ITEM_B}; "
    "(c) Collect data on the enrolment and drop-out of girls in secondary and tertiary education, disaggregated by region, disability and ethnic origin; "
    "(d) Allocate sufficient budgetary resources to the national machinery for the advancement of women so that it can coordinate gender mainstreaming across ministries; "
    "(e) Include information on the measures taken in its next periodic report."
)
_UNRELATED = (
    "The Committee urges the State party to: (a) Give the national preventive mechanism the resources to visit every place of detention unannounced; "
    "(b) Ensure that complaints of ill-treatment in police custody are investigated promptly by an independent body; "
    "(c) Include information on the measures taken in its next periodic report."
)


def test_a_paragraph_is_cut_into_the_things_it_asks() -> None:
    asked = link_similarity.requests(_PARAGRAPH)
    # The chapeau asks nothing and (e) only to report back: neither is a request.
    assert [a[:20] for a in asked] == ["Adopt temporary spec", _ITEM_B[:20], "Collect data on the ", "Allocate sufficient "]
    assert asked[1] == _ITEM_B
    # Sentences, but not after "No. 19"; a long sentence at its "and to".
    two = link_similarity.requests(
        "The State party should adopt a comprehensive law on violence against women, in accordance with general recommendation No. 19. "
        "It should also set up shelters for victims in every region of the country."
    )
    assert len(two) == 2 and two[0].endswith("No. 19.")
    long = link_similarity.requests(
        "Strengthen the capacity of the national human rights institution to receive and investigate individual complaints from every region "
        "and to monitor the conditions of detention in all prisons, police stations and psychiatric hospitals"
    )
    assert long == [
        "Strengthen the capacity of the national human rights institution to receive and investigate individual complaints from every region",
        "monitor the conditions of detention in all prisons, police stations and psychiatric hospitals",
    ]
    # A text that asks one thing is its own only request, as it was written.
    assert link_similarity.requests("118.5 Ratify OP-CAT (Denmark);") == ["118.5 Ratify OP-CAT (Denmark);"]


def test_a_paragraph_is_as_alike_as_its_best_matching_request() -> None:
    one_line = LinkItem(2, "Raise the legal age of marriage to 18 for girls and boys (Chile);", "UPR", "Arcadia")
    whole = suggest_groups([LinkItem(1, _PARAGRAPH, "CEDAW", "Arcadia"), one_line])
    its_b = suggest_groups([LinkItem(1, _ITEM_B, "CEDAW", "Arcadia"), one_line])
    # (a), (c) and (d) do not water the match down.
    assert [g.member_ids for g in whole] == [(1, 2)]
    assert whole[0].score == pytest.approx(its_b[0].score, abs=1e-3)


def test_a_multi_request_paragraph_joins_the_group_of_its_request_and_an_unrelated_one_none() -> None:
    items, _ = _fixture()
    paragraph = LinkItem(101, _PARAGRAPH, "CEDAW", "Arcadia")
    unrelated = LinkItem(102, _UNRELATED, "CAT", "Arcadia")
    groups = suggest_groups([*items, paragraph, unrelated])
    # 12, 13, 14: the fixture's marriage-age group, one line each.
    assert (12, 13, 14, 101) in {g.member_ids for g in groups}
    assert not any(102 in g.member_ids for g in groups)
    # Both paragraphs end asking for the next periodic report: that is not
    # the same thing asked.
    assert suggest_groups([paragraph, unrelated]) == []


def test_an_english_and_a_spanish_text_asking_the_same_are_grouped() -> None:
    """No word in common but the concepts of the term list: an English UPR
    recommendation and a Spanish committee paragraph on marital rape are one
    group; the English and Spanish texts on other asks stay out of it."""
    items = [
        LinkItem(1, "Criminalize marital rape (Chile);", "UPR", "Utopia"),
        LinkItem(2, "El Comité recomienda que el Estado parte tipifique como delito la violación conyugal.", "CEDAW", "Utopia"),
        LinkItem(3, "Ratify the Convention on the Rights of Persons with Disabilities", "UPR", "Utopia"),
        LinkItem(4, "Garantice el acceso a la educación secundaria de las niñas de las zonas rurales.", "CEDAW", "Utopia"),
    ]
    assert [g.member_ids for g in suggest_groups(items)] == [(1, 2)]
    # Without the term list the two share no word, and are apart.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(link_similarity, "CONCEPT_WEIGHT", 0.0)
        mp.setattr(link_similarity, "CONCEPT_OTHER_MECHANISM", 0.0)
        assert suggest_groups(items) == []


def test_concepts_are_named_alike_in_three_languages() -> None:
    from storage.link_terms import concepts

    def named(text: str) -> set[str]:
        return set(concepts(link_similarity.content(normalise(text)), link_similarity.STOP_WORDS))

    english = named("Combat violence against women")
    spanish = named("Combatir la violencia contra la mujer")
    french = named("Lutter contre la violence à l'égard des femmes")
    assert {"vaw", "women", "violence"} <= english & spanish & french
    assert "domestic_violence" in named("Violencia doméstica") & named("domestic violence") & named("violence domestique")
    # "basada en el género": up to two words may stand between a term's words.
    assert "gbv" in named("violencia basada en el género")
    assert "gbv" not in named("violence against women")


def test_language_is_told_by_function_words() -> None:
    assert link_similarity.language(normalise("Establish a national human rights institution in line with the Paris Principles")) == "en"
    assert link_similarity.language(normalise("Establecer una institución nacional de derechos humanos de conformidad con los Principios de París")) == "es"
    assert link_similarity.language(normalise("Créer une institution nationale des droits de l'homme conforme aux Principes de Paris")) == "fr"


def test_concepts_do_not_count_between_two_texts_of_one_language_and_mechanism() -> None:
    """Two English UPR recommendations naming the same concepts in other
    words are compared by their words alone: the term list is a bridge
    between languages and mechanisms, not a second text similarity."""
    items = [LinkItem(1, "Combat child labour", "UPR", "Utopia"), LinkItem(2, "Eliminate the work of children", "UPR", "Utopia")]
    features = link_similarity._Features(items)
    import numpy as np

    words_only = features._cosine(features.words, features.chars, None, features.language, features.mechanism, np.arange(2), np.arange(2))
    assert features.similarity(np.arange(2), np.arange(2))[0, 1] == pytest.approx(words_only[0, 1])


def test_an_item_left_alone_joins_the_group_whose_centroid_it_is_like() -> None:
    """Three members 0.4 alike; a fourth 0.29 like each of them is under the
    threshold 0.3 on average, but its cosine with their centroid (0.29 over
    the root of 0.6, their mean similarity with themselves, 0.37) is over
    0.3 times ATTACH_MARGIN (0.36): it joins. One 0.2 like each does not."""
    import numpy as np

    def sim(newcomer: float) -> np.ndarray:
        m = np.full((4, 4), 0.4)
        m[3, :] = m[:, 3] = newcomer
        np.fill_diagonal(m, 1.0)
        return m

    assert link_similarity._attach(sim(0.29), [[0, 1, 2], [3]], 0.3, 50) == [[0, 1, 2, 3]]
    assert link_similarity._attach(sim(0.2), [[0, 1, 2], [3]], 0.3, 50) == [[0, 1, 2], [3]]
    # A group at max_group takes no one.
    assert link_similarity._attach(sim(0.29), [[0, 1, 2], [3]], 0.3, 3) == [[0, 1, 2], [3]]
