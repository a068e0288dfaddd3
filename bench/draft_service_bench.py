"""Drafts through the service (``POST /api/v1/drafts`` minus HTTP): time per draft with the unit
directory and a history of 2,000 assigned orders read from the database, and the unit accuracy the
database's directory and a history of real orders give on the labelled transcripts.

A scratch SQLite file migrated to head holds the shipped default directory as ``units`` (codes
and names as the demo city has them, districts and departments) and the ``dev`` split's citizen
text as assigned orders with their labelled units. The ``heldout*`` splits are drafted from the
citizen's words only (what the live panel shows) and their unit compared with the label. Then filler
orders bring the history to 2,000 (the dev texts again, numbered) and every held-out transcript is
drafted again for the time. (The filler is not used for accuracy: 2,000 near-copies of 30 orders
make each draft's ten nearest orders copies of one, whose unit then outweighs the topic.)

Figures: ``draft_service_p50_ms``, ``draft_service_p99_ms`` (one draft each, history included),
``draft_service_unit_accuracy`` (held-out transcripts, DB directory, the 30 dev orders as history) beside
``draft_library_unit_accuracy`` (the library alone on the same text, default directory, no history).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

from asr.draft import DraftContext, draft_order
from asr.draft.evaluation import load
from asr.draft.resources import default_units
from minhu.db.engine import create_engine, create_session_factory
from minhu.db.migrate import upgrade
from minhu.db.models import Unit, WorkOrderRow
from minhu.services.drafts import DraftService
from workorders.clock import SHANGHAI, FixedClock
from workorders.enums import Role
from workorders.model import Actor

DATASET = Path(__file__).resolve().parent.parent / "tests" / "asr" / "data" / "draft_transcripts.jsonl"
HISTORY = 2000
AT = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)


async def _run(path: Path) -> dict[str, float]:
    records = load(DATASET)
    dev = [r for r in records if r.split == "dev"]
    held = [r for r in records if r.split != "dev"]
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
        async with create_session_factory(engine)() as session:
            ids: dict[str, int] = {}
            for u in default_units():
                row = Unit(
                    code=u.unit_id,
                    name=u.name,
                    assessment_group="district" if u.is_district else "department",
                    phone="",
                    active=True,
                    created_at=AT,
                )
                session.add(row)
                await session.flush()
                ids[u.unit_id] = row.id
            labelled = [(r.citizen_text, str(r.truth["unit"])) for r in dev if r.truth["unit"]]

            def order(i: int, content: str, unit: str) -> WorkOrderRow:
                at = AT - timedelta(minutes=HISTORY - i)
                return WorkOrderRow(
                    number=f"20261122-{i:06d}",
                    channel="phone",
                    kind="complaint",
                    category="B",
                    state="assigned",
                    content=content,
                    received_at=at,
                    registered_at=at,
                    registered_by="bench",
                    lead_unit_id=ids[unit],
                )

            session.add_all(order(i, c, u) for i, (c, u) in enumerate(labelled))
            await session.commit()

            service = DraftService(session, clock=FixedClock(AT), tz=SHANGHAI, history_orders=HISTORY)
            actor = Actor(user_id="bench", role=Role.INTAKE_AGENT, name="bench")
            await service.create(actor, text=held[0].citizen_text)  # segmenter loaded, caches warm
            plain = DraftContext.build()
            right = library_right = 0
            for r in held:
                stored = await service.create(actor, text=r.citizen_text, reference=r.reference)
                unit = stored.draft.unit.value
                right += unit is not None and stored.units[unit][0] == r.truth["unit"]
                library_right += draft_order(r.citizen_text, r.reference, plain).unit.value == r.truth["unit"]

            # timing at the production history size: filler orders (the dev texts again, numbered)
            session.add_all(
                order(i, f"{labelled[i % len(labelled)][0]}（{i}）", labelled[i % len(labelled)][1])
                for i in range(len(labelled), HISTORY)
            )
            await session.commit()
            await service.create(actor, text=held[0].citizen_text)
            times: list[float] = []
            for r in held:
                t0 = time.perf_counter()
                await service.create(actor, text=r.citizen_text, reference=r.reference)
                times.append((time.perf_counter() - t0) * 1000)
    finally:
        await engine.dispose()
    times.sort()
    return {
        "draft_service_p50_ms": statistics.median(times),
        "draft_service_p99_ms": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
        "draft_service_unit_accuracy": float(Fraction(right, len(held))),
        "draft_library_unit_accuracy": float(Fraction(library_right, len(held))),
        "draft_service_history_orders": float(HISTORY),
    }


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_run(Path(tmp) / "drafts-bench.db"))


if __name__ == "__main__":
    print(run())
