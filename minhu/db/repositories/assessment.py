"""What the assessment reads: the units with their ranking group, and each unit's orders of a month
with their membership flags (:data:`workorders.assessment.MEMBERSHIP_KEYS`).

Two ways to the same flags:

- :meth:`AssessmentRepository.memberships_sql` (PostgreSQL): the database computes every order's
  flags and returns, per unit, its orders and their flags as two arrays. A month of a million
  orders cannot go through Python order by order in the time a bulletin may take; only the
  arrays travel. The statement follows :func:`workorders.assessment.assess_units` step by step
  (the comments name the step); ``tests/assessment`` checks that it gives exactly the pure core's
  flags for every order of a month with every kind of order.
- :meth:`AssessmentRepository.orders_for` (any database): the orders themselves, for the pure core
  (SQLite deployments, and a check-in period counted in working days, which needs the calendar).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Integer, Interval, String, TextualSelect, bindparam, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.mapping import to_domain, unit_key
from minhu.db.models import Unit, WorkOrderRow
from minhu.db.types import UTCDateTime
from workorders.assessment import AssessmentPeriod, UnitInfo, membership_bits
from workorders.enums import HANDLING_STATES, AssessmentGroup, ContactPurpose, OrderState, Satisfaction
from workorders.model import WorkOrder

# Per order, the flags of ``assess_units`` (CTE ``led``: the orders the unit leads, assigned in the
# period; ``returned``: returns filed in the period by a unit that does not lead the order in it),
# from the facts of ``workorders.assessment.order_facts`` (named in the comments).
#
# Instants inside the JSON documents are the codec's ISO-8601 in UTC (``2026-10-03T01:12:00+00:00``,
# with ``.ffffff`` when there are microseconds), which sort as text (code points, ``COLLATE "C"``;
# jsonpath compares strings by code point) exactly as the instants do: they are compared as text,
# much cheaper than parsing. ``:start_iso``/``:end_iso`` are the period in that form.
#
# The per-order expressions use operators, jsonpath and the PL/pgSQL function
# ``assessment_contacted(replies, contacts, required)`` (migration 0300; for the rare orders with
# several replies or contacts) but no correlated subquery, so that PostgreSQL can compute them in
# parallel workers.
_RESULT = """COALESCE(w.satisfaction,
                    jsonb_path_query_array(w.revisit_attempts, '$[*].satisfaction ? (@ != null)') ->> -1)"""

_MEMBERSHIPS_PG = """
WITH led AS (
    SELECT w.lead_unit_id AS unit_id, w.number,
           :assigned_base
           -- returns: the lead itself returned it in the period
           | CASE WHEN w.returns <> '[]'::jsonb AND jsonb_path_exists(
                      w.returns,
                      '$[*] ? (@.unit_id == $u && @.returned_at >= $s && @.returned_at < $e)',
                      jsonb_build_object('u', CAST(w.lead_unit_id AS text), 's', CAST(:start_iso AS text),
                                         'e', CAST(:end_iso AS text)))
                  THEN :returns_num ELSE 0 END
           -- check-in within the check-in period (or that period over at as_of without one)
           | CASE WHEN w.checked_in_at IS NOT NULL THEN
                    CASE WHEN w.checked_in_at <= w.assigned_at + :check_in THEN :check_den | :check_num
                         ELSE :check_den END
                  WHEN :as_of > w.assigned_at + :check_in THEN :check_den
                  ELSE 0 END
           -- replied; contacted before every reply
           | CASE WHEN w.replies <> '[]'::jsonb THEN
                    :reply_num | :contact_den
                    | CASE WHEN (CASE
                                  WHEN jsonb_array_length(w.replies) = 1
                                       AND jsonb_array_length(w.contacts) = 1 THEN
                                    w.contacts->0->'round' = w.replies->0->'round'
                                    AND (w.contacts->0->>'at') COLLATE "C"
                                        <= (w.replies->0->>'at') COLLATE "C"
                                    AND (cardinality(CAST(:required AS text[])) = 0
                                         OR CAST(:required AS text[]) <@ ARRAY[w.contacts->0->>'purpose'])
                                  ELSE assessment_contacted(w.replies, w.contacts, CAST(:required AS text[]))
                                END) THEN :contact_num ELSE 0 END
                  ELSE 0 END
           -- on time: replied or overdue (the unit holds it past its deadline at as_of)
           | CASE WHEN w.replies <> '[]'::jsonb
                       OR (w.state = ANY(CAST(:handling AS text[])) AND w.due_at IS NOT NULL
                           AND :as_of > w.due_at) THEN
                    :on_time_den
                    | CASE WHEN (w.state = ANY(CAST(:handling AS text[])) AND w.due_at IS NOT NULL
                                 AND :as_of > w.due_at)
                                OR w.replies @> '[{"late": true}]'::jsonb THEN 0
                           ELSE :on_time_num END
                  ELSE 0 END
           | CASE WHEN w.state = :closed THEN :closed_num ELSE 0 END
           -- latest_result: this round's satisfaction, else the last answer of an earlier round
           | CASE WHEN RESULT = ANY(CAST(:rated AS text[])) THEN
                    :sat_den | :first_den
                    | CASE WHEN RESULT = ANY(CAST(:satisfied AS text[])) THEN
                             :sat_num
                             | CASE WHEN w.state = :closed AND w.handling_round = 0 THEN :first_num ELSE 0 END
                           ELSE 0 END
                  ELSE 0 END
           | CASE WHEN w.extensions @> '[{"status": "approved"}]'::jsonb THEN :extended_num ELSE 0 END
           | CASE WHEN w.handling_round > 0 THEN :rehandled_num ELSE 0 END AS flags
      FROM work_orders AS w
     WHERE w.assigned_at >= :start AND w.assigned_at < :end AND w.lead_unit_id IS NOT NULL
),
returned AS (
    SELECT DISTINCT u.id AS unit_id, w.number, :returned_only AS flags
      FROM work_orders AS w
     CROSS JOIN LATERAL jsonb_array_elements(w.returns) AS t(value)
      JOIN units AS u ON CAST(u.id AS text) = t.value->>'unit_id'
     WHERE w.returns <> '[]'::jsonb AND w.registered_at < :end
       AND (t.value->>'returned_at') COLLATE "C" >= CAST(:start_iso AS text) COLLATE "C"
       AND (t.value->>'returned_at') COLLATE "C" < CAST(:end_iso AS text) COLLATE "C"
       AND NOT (w.lead_unit_id IS NOT DISTINCT FROM u.id
                AND w.assigned_at >= :start AND w.assigned_at < :end)
)
SELECT unit_id,
       array_agg(number ORDER BY number COLLATE "C") AS members,
       array_agg(flags ORDER BY number COLLATE "C") AS flags
  FROM (SELECT unit_id, number, flags FROM led UNION ALL SELECT unit_id, number, flags FROM returned) AS m
 GROUP BY unit_id
""".replace("RESULT", _RESULT)


def _memberships_statement() -> TextualSelect:
    ints = [bindparam(name, type_=Integer) for name in membership_bits()._fields]
    return (
        text(_MEMBERSHIPS_PG)
        .bindparams(
            *ints,
            bindparam("handling", type_=ARRAY(String)),
            bindparam("required", type_=ARRAY(String)),
            bindparam("rated", type_=ARRAY(String)),
            bindparam("satisfied", type_=ARRAY(String)),
            bindparam("start", type_=UTCDateTime()),
            bindparam("end", type_=UTCDateTime()),
            bindparam("as_of", type_=UTCDateTime()),
            bindparam("check_in", type_=Interval()),
            bindparam("start_iso", type_=String),
            bindparam("end_iso", type_=String),
        )
        .columns(unit_id=Integer, members=ARRAY(String), flags=ARRAY(Integer))
    )


@dataclass(frozen=True, slots=True)
class Membership:
    """One unit's orders of a period (by number) and their flags."""

    members: list[str]
    flags: list[int]


class AssessmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def dialect(self) -> str:
        return self._session.get_bind().dialect.name

    async def units(self) -> list[UnitInfo]:
        rows = await self._session.execute(
            select(Unit.id, Unit.name, Unit.assessment_group).order_by(Unit.id)
        )
        return [UnitInfo(unit_key(r.id), r.name, AssessmentGroup(r.assessment_group)) for r in rows]

    async def memberships_sql(
        self,
        period: AssessmentPeriod,
        *,
        as_of: datetime,
        check_in: timedelta,
        required_contacts: Iterable[ContactPurpose],
        satisfied: Iterable[Satisfaction],
        rated: Iterable[Satisfaction],
    ) -> dict[str, Membership]:
        """Per unit (by its key), the orders ``period`` counts for it and their flags (PostgreSQL)."""
        params: dict[str, Any] = dict(membership_bits()._asdict())
        params.update(
            handling=sorted(s.value for s in HANDLING_STATES),
            closed=OrderState.CLOSED.value,
            required=[p.value for p in required_contacts],
            rated=sorted(s.value for s in rated),
            satisfied=sorted(s.value for s in satisfied),
            start=period.start,
            end=period.end,
            as_of=as_of,
            check_in=check_in,
            start_iso=period.start.astimezone(UTC).isoformat(),
            end_iso=period.end.astimezone(UTC).isoformat(),
        )
        # Sorting a million numbers into the units' arrays in memory, not in temporary files; no
        # JIT (compiling these expressions costs more than it saves); the per-order expressions in
        # parallel workers whenever the month is large enough for the planner to want them.
        for setting in (
            "work_mem = '256MB'",
            "jit = off",
            "parallel_setup_cost = 100",
            "parallel_tuple_cost = 0.001",
        ):
            await self._session.execute(text(f"SET LOCAL {setting}"))
        rows = await self._session.execute(_memberships_statement(), params)
        return {unit_key(r.unit_id): Membership(r.members, r.flags) for r in rows}

    async def orders_for(self, period: AssessmentPeriod, tz: tzinfo) -> list[WorkOrder]:
        """The orders assigned in ``period``, and those with a return on record registered before
        its end (the core keeps the returns filed in the period), by number (in code-point order,
        as PostgreSQL's ``COLLATE "C"`` sorts them for :meth:`memberships_sql`)."""
        has_returns = WorkOrderRow.returns != []  # JSON: compares with the document "[]"
        stmt = select(WorkOrderRow).where(
            or_(
                (WorkOrderRow.assigned_at >= period.start) & (WorkOrderRow.assigned_at < period.end),
                has_returns & (WorkOrderRow.registered_at < period.end),
            )
        )
        rows = sorted((await self._session.execute(stmt)).scalars(), key=lambda r: r.number)  # code points
        return [to_domain(r, tz) for r in rows]

    async def orders_by_number(self, numbers: Iterable[str], tz: tzinfo) -> dict[str, WorkOrder]:
        wanted = list(numbers)
        if not wanted:
            return {}
        stmt = select(WorkOrderRow).where(WorkOrderRow.number.in_(wanted))
        return {r.number: to_domain(r, tz) for r in (await self._session.execute(stmt)).scalars()}
