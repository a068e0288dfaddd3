"""Draft work orders: field accuracy on the labelled transcripts (tests/asr/data), and drafting time.

``draft_field_accuracy`` is the mean over the labelled fields (kind, category, unit, address,
phones, dates, name) of the share of drafts whose suggestion the agent would accept unchanged,
without an order history, over all labelled transcripts; the per-field figures, the figure on
the held-out transcripts alone (every split but ``dev``, which the extractor was tuned on) and the
leave-one-out figure with the other transcripts as history are reported beside it.
"""

from __future__ import annotations

import time
from pathlib import Path

from asr.draft import DraftContext, draft_order
from asr.draft.evaluation import evaluate, load

DATASET = Path(__file__).resolve().parent.parent / "tests" / "asr" / "data" / "draft_transcripts.jsonl"


def run() -> dict[str, float]:
    records = load(DATASET)
    result = evaluate(records)
    figures = {f"draft_accuracy_{k}": v for k, v in result.accuracy.items() if k != "mean"}
    figures["draft_field_accuracy"] = result.accuracy["mean"]
    figures["draft_field_accuracy_with_history"] = evaluate(records, with_history=True).accuracy["mean"]
    # the transcripts the extractor was never tuned on (every split but ``dev``)
    held_out = [r for r in records if r.split != "dev"]
    figures["draft_field_accuracy_heldout"] = evaluate(held_out).accuracy["mean"]
    figures["draft_heldout_transcripts"] = float(len(held_out))
    ctx = DraftContext.build()
    t0 = time.perf_counter()
    for r in records:
        draft_order(r.source, r.reference, ctx)
    figures["draft_ms_per_call"] = (time.perf_counter() - t0) * 1000 / len(records)
    figures["draft_labelled_transcripts"] = float(len(records))
    return figures


if __name__ == "__main__":
    print(run())
