"""Build kb/data/topic_df.tsv: in how many documents of each kind of official prose a word occurs.

    python tools/build_topic_df.py [--shared ../shared] [--out kb/data/topic_df.tsv]

Kinds (genres) of official Chinese prose, from ../shared/corpus: laws and regulations (laws/),
national reports (national-reports/: government work reports, CPC congress reports, NPC
resolutions) and local government work reports (work-reports/). Terms are what the topic rule
reads: the index's words (``kb.analysis.words`` of the normalised text: jieba with our user
dictionary, stop words out) and quoted names (``kb.meta.topics.quoted_names``).

Only derived statistics are written, never text: per word, its document frequency in each genre,
for words that reach ``MIN_DF`` documents and ``MIN_SHARE`` of the documents in at least one genre
(rarer words are all "rare" to the topic rule, kb/meta/topics.py). Deterministic: sorted output.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GENRES = {  # genre -> folder under corpus/, file suffixes
    "laws": ("laws/docs", (".md", ".txt")),
    "national_reports": ("national-reports/docs", (".txt", ".md")),
    "work_reports": ("work-reports/docs", (".txt", ".md")),
}
MIN_DF = 3
MIN_SHARE = 0.01


def _terms_of(path: str) -> frozenset[str]:
    """The topic rule's candidate terms of one document: its words and its quoted names."""
    from kb import analysis
    from kb.meta.topics import is_term, quoted_names

    norm = analysis.normalize(Path(path).read_text(encoding="utf-8", errors="replace"))
    return frozenset(w for w in analysis.words(norm) if is_term(w)) | quoted_names(norm)


def document_frequencies(folder: Path, suffixes: tuple[str, ...], jobs: int) -> tuple[int, Counter]:
    paths = sorted(str(p) for p in folder.rglob("*") if p.suffix in suffixes and p.is_file())
    df: Counter = Counter()
    with ProcessPoolExecutor(jobs) as pool:
        for found in pool.map(_terms_of, paths, chunksize=32):
            df.update(found)
    return len(paths), df


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=ROOT / "kb" / "data" / "topic_df.tsv")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.time()
    sizes, tables = {}, {}
    for genre, (sub, suffixes) in GENRES.items():
        sizes[genre], tables[genre] = document_frequencies(args.shared / "corpus" / sub, suffixes, args.jobs)
        print(f"{genre}: {sizes[genre]} documents, {len(tables[genre])} words", file=sys.stderr)
    kept = sorted(
        word for word in set().union(*tables.values())
        if any(tables[g][word] >= MIN_DF and tables[g][word] >= MIN_SHARE * sizes[g] for g in GENRES)
    )
    lines = [
        "# Document frequency of terms in official Chinese prose, per genre (derived statistics only,",
        "# no text). Built by tools/build_topic_df.py from ../shared/corpus; read by kb/meta/topics.py.",
        f"# Words kept: df >= {MIN_DF} and >= {MIN_SHARE:.0%} of a genre's documents in at least one genre.",
        "#documents\t" + "\t".join(f"{g}={sizes[g]}" for g in GENRES),
        "#word\t" + "\t".join(GENRES),
    ]
    lines += [word + "\t" + "\t".join(str(tables[g][word]) for g in GENRES) for word in kept]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(kept)} words ({time.time() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
