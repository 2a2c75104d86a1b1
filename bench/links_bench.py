"""How good and how fast the linked-recommendation suggestions are (issue 15).

    python bench/links_bench.py                  # quality on the labelled set, then speed at 3,000
    python bench/links_bench.py --size 3000      # speed only, at another size
    python bench/links_bench.py --quality-only

Quality: two labelled sets, grouped by the same rules (bench/README-links.md).
bench/links_labels.csv names 618 UPR recommendations of the UPR Info sample in
the shared data folder (../shared/data next to the repository, or
$NMRF_SHARED_DATA); their texts are read from there, never copied into the
project, and without the file the benchmark says so and measures speed only.
bench/links_tb_sp.csv holds 150 treaty-body paragraphs to the same States,
quoted with their symbols, labelled against the UPR groups.

It prints, for the UPR rows alone, for UPR and treaty-body rows together
(all their pairs, and the cross-mechanism pairs only: a UPR recommendation
with a treaty-body or special-procedure paragraph) and for the treaty-body
rows among themselves: the precision and recall of the suggested "same
group" pairs, B-cubed precision and recall (per recommendation: the share of
its suggested group that is really its group, and the share of its real
group that was suggested with it) and the share of real groups suggested
exactly. Then the same held out: the threshold is chosen on one State's rows
(the best B-cubed F1) and the figures are those of the other State's rows, in
both directions, so that they are not measured on what tuned them.

Speed: 3,000 recommendations to ONE State (the worst case: every pair is
compared), made from every text of the shared file (1,148, four States) and
copies of them with noise (a word in six dropped, two neighbours swapped, a
recommending State added in brackets), so near-duplicates exist as they do in
a registry. Without the shared file, from bench-written texts. Timed in its
own process, which also gives the peak memory of the suggestion alone.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from peak import peak_mib  # noqa: E402

from storage.link_similarity import DEFAULT_THRESHOLD, LinkItem, SuggestedGroup, suggest_groups  # noqa: E402

LABELS = BENCH / "links_labels.csv"
TB_SP = BENCH / "links_tb_sp.csv"
UPR_ES = BENCH / "links_upr_es.csv"
# Ids of the treaty-body and special-procedure rows start here, above any row
# number of the shared file.
TB_SP_ID_BASE = 1_000_000
UPR_ES_ID_BASE = 2_000_000
SHARED_NAME = "uprinfo_db_export_sample_NZL_SVN_URY_FJI.csv"
THRESHOLDS = (0.20, 0.25, 0.28, 0.30, 0.32, 0.35, 0.40, 0.45, 0.50)
SPEED_SIZE = 3_000


def shared_data_file() -> Path | None:
    """The UPR Info sample, where the shared data folder has it."""
    folders = [Path(os.environ["NMRF_SHARED_DATA"])] if os.environ.get("NMRF_SHARED_DATA") else []
    folders += [ROOT.parent / "shared" / "data", Path("/work/shared/data")]
    for folder in folders:
        if (folder / SHARED_NAME).is_file():
            return folder / SHARED_NAME
    return None


def text_key(text: str) -> str:
    """sha1 of the text with case, accents, punctuation and spacing folded:
    how the labels file names a row without copying it. Frozen here (not
    shared with the suggester's normalisation, which may change)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return hashlib.sha1(" ".join(bare.split()).encode("utf-8")).hexdigest()


def row_key(row: dict[str, str]) -> tuple[str, str, str, str]:
    return (row["To"].strip(), row["Session"].strip(), row["From"].strip(), text_key(row["Text"]))


def read_shared(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def issues(row: dict[str, str]) -> frozenset[str]:
    return frozenset(t.strip() for t in row.get("Issue", "").split(",") if t.strip())


@dataclass(frozen=True)
class Labelled:
    items: list[LinkItem]
    gold: dict[int, str]  # item id -> group label (a singleton has its own)
    missing: int  # labelled rows not found in the shared file

    def country_of(self, item_id: int) -> str:
        return next(i.country for i in self.items if i.id == item_id)

    def where(self, keep: Callable[[LinkItem], bool]) -> Labelled:
        """The rows ``keep`` accepts, with their labels."""
        items = [i for i in self.items if keep(i)]
        return Labelled(items, {i.id: self.gold[i.id] for i in items}, 0)

    def __add__(self, other: Labelled) -> Labelled:
        return Labelled(self.items + other.items, {**self.gold, **other.gold}, self.missing + other.missing)


def is_upr(item: LinkItem) -> bool:
    return item.mechanism == "UPR"


def load_labelled(shared: Path, labels: Path = LABELS, *, with_tags: bool = True) -> Labelled:
    rows = read_shared(shared)
    by_key = {row_key(r): (k, r) for k, r in enumerate(rows)}
    items: list[LinkItem] = []
    gold: dict[int, str] = {}
    missing = 0
    with labels.open(encoding="utf-8", newline="") as f:
        for line in csv.DictReader(f):
            found = by_key.get((line["to"], line["session"], line["from"], line["text_sha1"]))
            if found is None:
                missing += 1
                continue
            k, r = found
            items.append(LinkItem(id=k, text=r["Text"], mechanism="UPR", country=r["To"], themes=issues(r) if with_tags else frozenset()))
            gold[k] = line["group"] or f"alone-{k}"
    return Labelled(items, gold, missing)


def load_tb_sp(path: Path = TB_SP, *, language: str | None = None) -> Labelled:
    """The treaty-body and special-procedure paragraphs (those in
    ``language`` only, when given), texts and labels both in the file. No
    tags: the UPR rows' tags are UPR Info's issues, a vocabulary these
    paragraphs were never classified in."""
    items: list[LinkItem] = []
    gold: dict[int, str] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for k, line in enumerate(csv.DictReader(f)):
            if language is not None and line["language"] != language:
                continue
            item_id = TB_SP_ID_BASE + k
            items.append(LinkItem(id=item_id, text=line["text"], mechanism=line["mechanism"], country=line["state"]))
            gold[item_id] = line["group"] or f"alone-{item_id}"
    return Labelled(items, gold, 0)


def load_upr_es(path: Path = UPR_ES, labels: Path = LABELS) -> Labelled:
    """The Spanish text of some of the labelled UPR recommendations to
    Uruguay, each labelled as its English row in ``labels`` is (named by
    the same four keys): the UPR side of the Spanish control. Needs no
    shared file."""
    with labels.open(encoding="utf-8", newline="") as f:
        group = {(r["to"], r["session"], r["from"], r["text_sha1"]): r["group"] for r in csv.DictReader(f)}
    items: list[LinkItem] = []
    gold: dict[int, str] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for k, line in enumerate(csv.DictReader(f)):
            key = (line["to"], line["session"], line["from"], line["text_sha1"])
            if key not in group:
                raise ValueError(f"{path.name} row {k + 2} names no row of {labels.name}: {key}")
            item_id = UPR_ES_ID_BASE + k
            items.append(LinkItem(id=item_id, text=line["text"], mechanism="UPR", country=line["to"]))
            gold[item_id] = group[key] or f"alone-{item_id}"
    return Labelled(items, gold, 0)


def _pairs(clusters: Sequence[Sequence[int]]) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for c in clusters:
        members = sorted(c)
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                out.add((members[a], members[b]))
    return out


def scores(suggested: Sequence[SuggestedGroup], gold: dict[int, str]) -> dict[str, float]:
    """Pairwise and B-cubed precision and recall, and the share of real
    groups (two members or more) suggested exactly."""
    real: dict[str, list[int]] = defaultdict(list)
    for item, label in gold.items():
        real[label].append(item)
    predicted = {m: tuple(g.member_ids) for g in suggested for m in g.member_ids}
    for item in gold:
        predicted.setdefault(item, (item,))
    true_pairs = _pairs(list(real.values()))
    found_pairs = _pairs([g.member_ids for g in suggested])
    hit = len(true_pairs & found_pairs)
    precision = hit / len(found_pairs) if found_pairs else 1.0
    recall = hit / len(true_pairs) if true_pairs else 1.0
    b_p = b_r = 0.0
    for item, label in gold.items():
        mine = set(predicted[item])
        theirs = set(real[label])
        both = len(mine & theirs)
        b_p += both / len(mine)
        b_r += both / len(theirs)
    b_p /= len(gold)
    b_r /= len(gold)
    groups = [tuple(sorted(v)) for v in real.values() if len(v) > 1]
    exact = sum(1 for g in groups if predicted[g[0]] == g) / len(groups) if groups else 1.0

    def f1(p: float, r: float) -> float:
        return 2 * p * r / (p + r) if p + r else 0.0

    return {
        "pair_precision": precision,
        "pair_recall": recall,
        "pair_f1": f1(precision, recall),
        "bcubed_precision": b_p,
        "bcubed_recall": b_r,
        "bcubed_f1": f1(b_p, b_r),
        "exact_groups": exact,
        "suggested_groups": float(len(suggested)),
        "true_pairs": float(len(true_pairs)),
        "found_pairs": float(len(found_pairs)),
    }


def quality(labelled: Labelled, thresholds: Sequence[float] = THRESHOLDS) -> list[tuple[float, dict[str, float]]]:
    return [(t, scores(suggest_groups(labelled.items, threshold=t), labelled.gold)) for t in thresholds]


def restricted(suggested: Sequence[SuggestedGroup], keep: set[int]) -> list[SuggestedGroup]:
    """The suggestions as the rows ``keep`` see them: each group cut down to
    those rows, and none where fewer than two are left."""
    out = []
    for g in suggested:
        members = tuple(m for m in g.member_ids if m in keep)
        if len(members) >= 2:
            out.append(SuggestedGroup(member_ids=members, score=g.score))
    return out


def cross_scores(suggested: Sequence[SuggestedGroup], labelled: Labelled) -> dict[str, float]:
    """The pairs of a UPR recommendation with a treaty-body or
    special-procedure paragraph only: their precision and recall, and
    B-cubed over the other side (per row, the share of the other side's rows
    suggested with it that are really in its group, over the rows suggested
    with at least one; and the share of its real group's other-side rows
    suggested with it, over the rows whose group has one). NaN where nothing
    was suggested or nothing is to be found."""
    upr = {i.id for i in labelled.items if is_upr(i)}
    real: dict[str, list[int]] = defaultdict(list)
    for item, label in labelled.gold.items():
        real[label].append(item)
    suggested = restricted(suggested, set(labelled.gold))

    def cross(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
        return {(a, b) for a, b in pairs if (a in upr) != (b in upr)}

    true_pairs = cross(_pairs(list(real.values())))
    found_pairs = cross(_pairs([g.member_ids for g in suggested]))
    hit = len(true_pairs & found_pairs)
    predicted = {m: set(g.member_ids) for g in suggested for m in g.member_ids}
    p_sum = r_sum = 0.0
    p_n = r_n = 0
    for item, label in labelled.gold.items():
        side = item in upr
        mine = {m for m in predicted.get(item, ()) if (m in upr) != side}
        theirs = {m for m in real[label] if (m in upr) != side}
        both = len(mine & theirs)
        if mine:
            p_sum, p_n = p_sum + both / len(mine), p_n + 1
        if theirs:
            r_sum, r_n = r_sum + both / len(theirs), r_n + 1
    nan = float("nan")
    return {
        "pair_precision": hit / len(found_pairs) if found_pairs else nan,
        "pair_recall": hit / len(true_pairs) if true_pairs else nan,
        "bcubed_precision": p_sum / p_n if p_n else nan,
        "bcubed_recall": r_sum / r_n if r_n else nan,
        "true_pairs": float(len(true_pairs)),
        "found_pairs": float(len(found_pairs)),
    }


SUBSETS = ("UPR only", "UPR x TB/SP", "TB/SP among themselves", "all")


def by_subset(upr: Labelled, both: Labelled, threshold: float) -> dict[str, dict[str, float]]:
    """The figures of one threshold: the UPR rows suggested alone (a registry
    of UPR recommendations only), then UPR and treaty-body rows suggested
    together, seen as their cross-mechanism pairs, as the treaty-body rows
    among themselves and as a whole."""
    suggested = suggest_groups(both.items, threshold=threshold)
    tb = both.where(lambda i: not is_upr(i))
    return {
        "UPR only": scores(suggest_groups(upr.items, threshold=threshold), upr.gold),
        "UPR x TB/SP": cross_scores(suggested, both),
        "TB/SP among themselves": scores(restricted(suggested, set(tb.gold)), tb.gold),
        "all": scores(suggested, both.gold),
    }


def tuned_threshold(labelled: Labelled, thresholds: Sequence[float] = THRESHOLDS) -> float:
    """The threshold with the best B-cubed F1 on these rows (the lower of two
    that tie): what a registry's own labelled sample would choose."""
    return max(thresholds, key=lambda t: (round(scores(suggest_groups(labelled.items, threshold=t), labelled.gold)["bcubed_f1"], 9), -t))


def held_out(upr: Labelled, both: Labelled) -> list[tuple[str, str, float, dict[str, dict[str, float]]]]:
    """For each State: the threshold tuned on the OTHER State's rows (UPR and
    treaty-body together), and this State's figures at it."""
    states = sorted({i.country for i in both.items})
    out = []
    for state in states:
        tuning = both.where(lambda i, s=state: i.country != s)
        t = tuned_threshold(tuning)
        figures = by_subset(upr.where(lambda i, s=state: i.country == s), both.where(lambda i, s=state: i.country == s), t)
        out.append(("+".join(sorted({i.country for i in tuning.items})), state, t, figures))
    return out


def _f(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:.3f}"


def print_subsets(figures: dict[str, dict[str, float]], labelled: dict[str, int], indent: str = "  ") -> None:
    print(f"{indent}{'':24} {'rows':>5}  {'pairs P':>7} {'pairs R':>7}  {'B3 P':>5} {'B3 R':>5}  {'true pairs':>10} {'found':>6}")
    for name in SUBSETS:
        q = figures[name]
        print(
            f"{indent}{name:24} {labelled[name]:>5}  {_f(q['pair_precision']):>7} {_f(q['pair_recall']):>7}  {_f(q['bcubed_precision']):>5} "
            f"{_f(q['bcubed_recall']):>5}  {q['true_pairs']:>10.0f} {q['found_pairs']:>6.0f}"
        )


def subset_rows(upr: Labelled, both: Labelled) -> dict[str, int]:
    tb = sum(1 for i in both.items if not is_upr(i))
    return {"UPR only": len(upr.items), "UPR x TB/SP": len(both.items), "TB/SP among themselves": tb, "all": len(both.items)}


# Bench-written texts for the speed run when the shared file is absent.
_VERBS = ("Ratify", "Adopt", "Strengthen", "Ensure", "Establish", "Consider", "Continue", "Take measures to")
_OBJECTS = (
    "the Optional Protocol to the Convention against Torture",
    "a law criminalising marital rape",
    "the national human rights institution",
    "access to education for children with disabilities",
    "prison conditions and overcrowding",
    "a national plan against trafficking in persons",
    "the independence of the judiciary",
    "free birth registration",
    "a standing invitation to the special procedures",
    "the minimum age of marriage at 18",
)
_TAILS = ("", " without delay", " in line with international standards", " with adequate resources", ", in consultation with civil society", " for women and girls")


def synthetic_texts(count: int, rng: random.Random) -> list[str]:
    return [f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}{rng.choice(_TAILS)}{rng.choice(_TAILS)}" for _ in range(count)]


def _noisy(text: str, rng: random.Random, states: Sequence[str]) -> str:
    words = [w for w in text.split() if rng.random() >= 1 / 6] or text.split()
    if len(words) > 3:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words) + f" ({rng.choice(states)})"


def speed_items(size: int, shared: Path | None, seed: int = 15) -> list[LinkItem]:
    """``size`` recommendations to one State: the shared texts, then noisy
    copies of them (see the module's docstring)."""
    rng = random.Random(seed)
    if shared is not None:
        rows = read_shared(shared)
        base = [(r["Text"], issues(r)) for r in rows]
        states = sorted({r["From"] for r in rows if r["From"]})
    else:
        base = [(t, frozenset()) for t in synthetic_texts(min(size, 1_000), rng)]
        states = ["Chile", "France", "Ghana", "Japan", "Norway"]
    items = []
    for k in range(size):
        text, themes = base[k % len(base)]
        if k >= len(base):
            text = _noisy(text, rng, states)
        items.append(LinkItem(id=k + 1, text=text, mechanism="UPR", country="Utopia", themes=themes))
    return items


def speed_worker(size: int) -> None:
    items = speed_items(size, shared_data_file())
    before = peak_mib()
    started = time.perf_counter()
    import sklearn.feature_extraction.text  # noqa: F401  (the lazy import, timed apart)

    imported = time.perf_counter()
    groups = suggest_groups(items)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "size": size,
                "import_seconds": imported - started,
                "seconds": done - imported,
                "groups": len(groups),
                "largest": max((len(g.member_ids) for g in groups), default=0),
                "peak_mib": peak_mib(),
                "peak_before_mib": before,
                "source": "shared file plus noisy copies" if shared_data_file() else "bench-written texts",
            }
        )
    )


def measure_speed(size: int = SPEED_SIZE) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--speed-worker", str(size)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(size: int = SPEED_SIZE) -> list[tuple[str, str, str, str]]:
    """Rows for bench/run_all.py: speed at ``size``, quality at the default
    threshold and held out."""
    s = measure_speed(size)
    rows = [(f"links suggest, {size:,} recommendations to one State", f"{s['seconds']:.1f} s (+{s['import_seconds']:.1f} s import)", "< 60 s", f"{s['peak_mib']:.0f} MiB")]
    shared = shared_data_file()
    if shared is None:
        rows.append(("   precision / recall on the labelled set", "shared data absent", "", ""))
        return rows
    upr = load_labelled(shared)
    both = upr + load_tb_sp()
    q = by_subset(upr, both, DEFAULT_THRESHOLD)
    for name, label in (("UPR only", f"{len(upr.items)} UPR rows"), ("UPR x TB/SP", "UPR x treaty-body pairs"), ("all", f"{len(both.items)} rows")):
        rows.append(
            (
                f"   pairs precision / recall, {label} (t={DEFAULT_THRESHOLD})",
                f"{_f(q[name]['pair_precision'])} / {_f(q[name]['pair_recall'])} (B-cubed {_f(q[name]['bcubed_precision'])} / {_f(q[name]['bcubed_recall'])})",
                "",
                "",
            )
        )
    for tuned_on, state, t, figures in held_out(upr, both):
        a = figures["all"]
        rows.append(
            (f"   held out: {state}, t={t:.2f} tuned on {tuned_on}", f"{_f(a['pair_precision'])} / {_f(a['pair_recall'])} (B-cubed {_f(a['bcubed_precision'])} / {_f(a['bcubed_recall'])})", "", "")
        )
    return rows


def print_quality(shared: Path, *, with_tags: bool) -> None:
    upr = load_labelled(shared, with_tags=with_tags)
    tb = load_tb_sp()
    both = upr + tb
    sizes = defaultdict(int)
    for label in both.gold.values():
        sizes[label] += 1
    alone = sum(1 for i in upr.items if sum(1 for j in upr.items if upr.gold[j.id] == upr.gold[i.id]) == 1)
    per_state = ", ".join(f"{s} {sum(1 for i in tb.items if i.country == s)}" for s in sorted({i.country for i in tb.items}))
    print(
        f"labelled set: {len(upr.items)} UPR rows of {shared.name} ({alone} alone among them)"
        + (f"; {upr.missing} labelled rows not found" if upr.missing else "")
        + ("; text only, no tags" if not with_tags else "")
        + f"; {len(tb.items)} treaty-body paragraphs of {TB_SP.name} ({per_state}); {sum(1 for n in sizes.values() if n > 1)} groups of two or more in all"
    )
    header = f"{'threshold':>9}  {'pairs P':>7} {'pairs R':>7} {'F1':>5}  {'B3 P':>5} {'B3 R':>5} {'F1':>5}  {'exact':>5}  {'groups':>6}"
    print("UPR rows alone:")
    print(header)
    for t, q in quality(upr):
        mark = "  <- default" if abs(t - DEFAULT_THRESHOLD) < 1e-9 else ""
        print(
            f"{t:>9.2f}  {q['pair_precision']:>7.3f} {q['pair_recall']:>7.3f} {q['pair_f1']:>5.3f}  {q['bcubed_precision']:>5.3f} {q['bcubed_recall']:>5.3f} "
            f"{q['bcubed_f1']:>5.3f}  {q['exact_groups']:>5.3f}  {q['suggested_groups']:>6.0f}{mark}"
        )
    print("UPR and treaty-body rows together (cross: the UPR x TB/SP pairs only):")
    print(header + f"  {'cross P':>7} {'cross R':>7}")
    for t in THRESHOLDS:
        suggested = suggest_groups(both.items, threshold=t)
        q, c = scores(suggested, both.gold), cross_scores(suggested, both)
        mark = "  <- default" if abs(t - DEFAULT_THRESHOLD) < 1e-9 else ""
        print(
            f"{t:>9.2f}  {q['pair_precision']:>7.3f} {q['pair_recall']:>7.3f} {q['pair_f1']:>5.3f}  {q['bcubed_precision']:>5.3f} {q['bcubed_recall']:>5.3f} "
            f"{q['bcubed_f1']:>5.3f}  {q['exact_groups']:>5.3f}  {q['suggested_groups']:>6.0f}  {_f(c['pair_precision']):>7} {_f(c['pair_recall']):>7}{mark}"
        )
    print(f"at the default threshold {DEFAULT_THRESHOLD} (tuned on all of the UPR rows):")
    print_subsets(by_subset(upr, both, DEFAULT_THRESHOLD), subset_rows(upr, both))
    print("held out: the threshold with the best B-cubed F1 on one State's rows, the figures of the other State's rows at it")
    for tuned_on, state, t, figures in held_out(upr, both):
        here_upr, here = upr.where(lambda i, s=state: i.country == s), both.where(lambda i, s=state: i.country == s)
        print(f"  {state}, at t={t:.2f} tuned on {tuned_on}:")
        print_subsets(figures, subset_rows(here_upr, here), indent="    ")


def print_spanish_control() -> None:
    """Cross-mechanism pairs when both sides are in Spanish: the UPR rows of
    links_upr_es.csv with the Spanish treaty-body paragraphs, to tell what
    the language costs from what the mechanism's style costs."""
    upr = load_upr_es()
    tb = load_tb_sp(language="es")
    both = upr + tb
    print(
        f"Spanish control, Uruguay: {len(upr.items)} UPR recommendations in Spanish ({UPR_ES.name}, labelled as their English rows) "
        f"and the {len(tb.items)} Spanish treaty-body paragraphs, at the default threshold {DEFAULT_THRESHOLD}:"
    )
    print_subsets(by_subset(upr, both, DEFAULT_THRESHOLD), subset_rows(upr, both))
    shared = shared_data_file()
    if shared is not None:
        # The same UPR recommendations in English, without their tags (the
        # Spanish rows have none): what the Spanish text costs by itself.
        named = {line["text_sha1"] for line in csv.DictReader(UPR_ES.open(encoding="utf-8", newline=""))}
        english = load_labelled(shared, with_tags=False).where(lambda i: i.country == "Uruguay" and text_key(i.text) in named)
        q = scores(suggest_groups(english.items), english.gold)
        print(
            f"  the same {len(english.items)} UPR recommendations in English, text only: pairs P {_f(q['pair_precision'])} R {_f(q['pair_recall'])}; "
            f"B-cubed P {_f(q['bcubed_precision'])} R {_f(q['bcubed_recall'])}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=SPEED_SIZE, help="recommendations in the speed run")
    parser.add_argument("--quality-only", action="store_true")
    parser.add_argument("--no-tags", action="store_true", help="leave out the UPR Info issue tags (text alone)")
    parser.add_argument("--speed-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_worker:
        speed_worker(args.speed_worker)
        return
    shared = shared_data_file()
    if shared is None:
        print(f"{SHARED_NAME} not found in ../shared/data or $NMRF_SHARED_DATA: no figures on the English UPR rows, speed from bench-written texts")
    else:
        print_quality(shared, with_tags=not args.no_tags)
    print_spanish_control()
    if args.quality_only:
        return
    s = measure_speed(args.size)
    print(
        f"speed: {s['size']:,} recommendations to one State ({s['source']}): {s['seconds']:.2f} s, plus {s['import_seconds']:.2f} s importing scikit-learn; "
        f"{s['groups']:.0f} groups, largest {s['largest']:.0f}; peak memory {s['peak_mib']:.0f} MiB ({s['peak_before_mib']:.0f} MiB before)"
    )


if __name__ == "__main__":
    main()
