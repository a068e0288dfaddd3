"""The work-order domain of the 12345 hotline (工单): rules, deadlines and lifecycle.

Pure functions and frozen dataclasses only: no I/O, no clock reads, no database. Time comes in as
an argument (``at``) taken by the caller from an injected :class:`workorders.clock.Clock`; policy
numbers come from a :class:`workorders.policy.PolicyProfile`; working days from a
:class:`workorders.calendar.WorkingCalendar`. Adapters (DB, HTTP, AMI, Redis) depend on this
package; it depends on none of them.
"""
