"""A Core statement compiled once, executed as driver SQL with positional parameters.

SQLAlchemy compiles a statement from a cache on every execution: it builds the statement's cache
key, looks the compiled form up, then walks every bind parameter through its type's processor. For
a statement with fifty parameters run hundreds of times a second (registering an order) that was
about a tenth of the server's time. :class:`CompiledStatement` does the compiling and the
per-parameter set-up once, for one dialect, and hands the driver the SQL string and a tuple
(``Connection.exec_driver_sql``): the same SQL and the same processed values as ``execute``, in
the session's connection and transaction.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class CompiledStatement:
    """``statement`` compiled for ``dialect``; :meth:`execute` runs it with named values.

    Only for dialects with a positional parameter style (asyncpg's ``$1``); bind parameters with
    a fixed value (literals in the statement) are processed once, here.
    """

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"{type(statement).__name__} does not compile to SQL")
        if not compiled.positional or compiled.positiontup is None:
            raise ValueError(f"{dialect.name} does not take positional parameters")
        self.sql = compiled.string
        self._slots: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            processor = bind.type.bind_processor(dialect)
            if bind.required:
                self._slots.append((bind.key, None, processor))
            else:
                value = bind.effective_value
                self._slots.append((None, processor(value) if processor else value, None))

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's positional parameters for ``values`` (by bind parameter name)."""
        out = []
        for key, constant, processor in self._slots:
            if key is None:
                out.append(constant)
            else:
                value = values[key]
                out.append(value if processor is None else processor(value))
        return tuple(out)

    async def execute(self, connection: AsyncConnection, values: Mapping[str, Any]) -> CursorResult[Any]:
        return await connection.exec_driver_sql(self.sql, self.parameters(values))


_compiled: weakref.WeakKeyDictionary[Dialect, dict[Hashable, CompiledStatement]] = weakref.WeakKeyDictionary()


def compiled_once(dialect: Dialect, key: Hashable, build: Callable[[], ClauseElement]) -> CompiledStatement:
    """The statement ``build()`` gives for ``key``, compiled once per engine (its dialect)."""
    by_key = _compiled.setdefault(dialect, {})
    compiled = by_key.get(key)
    if compiled is None:
        compiled = by_key[key] = CompiledStatement(build(), dialect)
    return compiled
