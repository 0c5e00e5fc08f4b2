"""A stand-in for the PySpark API, used only by Pipebook's Livy and Databricks test servers.

It is NOT Spark. Real Spark cannot run on the CI machines, so this REPL executes a small PySpark-like subset by
building SQL strings and asking its parent (the TypeScript test server) to run them on the session's DuckDB
connection. Enough of the API exists for a notebook cell to read upstream cells as DataFrames, transform them and
end in a DataFrame; docs/spark.md lists exactly what is supported.

Wire protocol (one JSON object per line):
  parent -> REPL   {"type": "execute", "code": "..."}
  REPL -> parent   {"type": "sql", "sql": "...", "limit": N | null}       (the parent answers on stdin with
  parent -> REPL   {"ok": true, "columns": [{"name","type"}], "rows": [[...]]} or {"ok": false, "error": "..."})
  REPL -> parent   {"type": "result", "status": "ok", "text": "...", "table": {"columns","rows"} | null}
                or {"type": "result", "status": "error", "ename", "evalue", "traceback": [...]}
"""

import ast
import io
import json
import sys
import traceback
import types

_proto_in = sys.stdin
_proto_out = sys.stdout


def _request(sql, limit=None):
    _proto_out.write(json.dumps({"type": "sql", "sql": sql, "limit": limit}) + "\n")
    _proto_out.flush()
    line = _proto_in.readline()
    if not line:
        raise SystemExit(0)
    answer = json.loads(line)
    if not answer.get("ok"):
        message = answer.get("error", "unknown error")
        if message.startswith("[PARSE_SYNTAX_ERROR]"):
            raise ParseException(message)
        raise AnalysisException(message)
    return answer


class AnalysisException(Exception):
    pass


class ParseException(AnalysisException):
    pass


def _quote(name):
    return '"' + str(name).replace('"', '""') + '"'


def _sql_literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


class Column:
    def __init__(self, sql, name=None):
        self._sql = sql
        self._name = name

    def _bin(self, op, other):
        return Column("(" + self._sql + " " + op + " " + _to_sql(other) + ")")

    def __eq__(self, o):
        return self._bin("=", o)

    def __ne__(self, o):
        return self._bin("<>", o)

    def __lt__(self, o):
        return self._bin("<", o)

    def __le__(self, o):
        return self._bin("<=", o)

    def __gt__(self, o):
        return self._bin(">", o)

    def __ge__(self, o):
        return self._bin(">=", o)

    def __add__(self, o):
        return self._bin("+", o)

    def __sub__(self, o):
        return self._bin("-", o)

    def __mul__(self, o):
        return self._bin("*", o)

    def __truediv__(self, o):
        return self._bin("/", o)

    def __and__(self, o):
        return self._bin("AND", o)

    def __or__(self, o):
        return self._bin("OR", o)

    def __invert__(self):
        return Column("(NOT " + self._sql + ")")

    def __hash__(self):
        return hash(self._sql)

    def alias(self, name):
        return Column(self._sql + " AS " + _quote(name), name)

    name = alias

    def cast(self, type_name):
        return Column("CAST(" + self._sql + " AS " + str(type_name) + ")")

    def isNull(self):
        return Column("(" + self._sql + " IS NULL)")

    def isNotNull(self):
        return Column("(" + self._sql + " IS NOT NULL)")

    def isin(self, *values):
        if len(values) == 1 and isinstance(values[0], (list, tuple, set)):
            values = tuple(values[0])
        return Column("(" + self._sql + " IN (" + ", ".join(_sql_literal(v) for v in values) + "))")

    def like(self, pattern):
        return Column("(" + self._sql + " LIKE " + _sql_literal(pattern) + ")")

    def asc(self):
        return Column(self._sql + " ASC")

    def desc(self):
        return Column(self._sql + " DESC")

    def __repr__(self):
        return "Column<'" + self._sql + "'>"


def _to_sql(x):
    if isinstance(x, Column):
        return x._sql
    return _sql_literal(x)


def _col_sql(c):
    """A column argument: a Column, or a string naming a column ("*" allowed)."""
    if isinstance(c, Column):
        return c._sql
    if c == "*":
        return "*"
    return _quote(c)


def _functions_module():
    F = types.ModuleType("pyspark.sql.functions")

    def col(name):
        return Column(_col_sql(name), name)

    def agg(fn):
        def build(c):
            inner = "*" if c == "*" else _col_sql(c)
            return Column(fn + "(" + inner + ")")

        return build

    F.col = col
    F.column = col
    F.lit = lambda v: Column(_sql_literal(v))
    F.expr = lambda s: Column(s)
    F.sum = agg("sum")
    F.avg = agg("avg")
    F.mean = agg("avg")
    F.min = agg("min")
    F.max = agg("max")
    F.count = agg("count")
    F.countDistinct = lambda c: Column("count(DISTINCT " + _col_sql(c) + ")")
    F.upper = agg("upper")
    F.lower = agg("lower")
    F.round = lambda c, scale=0: Column("round(" + _col_sql(c) + ", " + str(int(scale)) + ")")
    F.concat = lambda *cs: Column("concat(" + ", ".join(_col_sql(c) for c in cs) + ")")
    return F


class Row(tuple):
    def __new__(cls, names, values):
        row = super().__new__(cls, values)
        row._names = list(names)
        return row

    def asDict(self):
        return dict(zip(self._names, self))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[self._names.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def __repr__(self):
        return "Row(" + ", ".join(n + "=" + repr(v) for n, v in zip(self._names, self)) + ")"


class DataFrame:
    def __init__(self, sql):
        self._sql = sql
        # Spark analyses a DataFrame when it is built, so a bad column or table fails on the line that names it.
        self._columns = _request("SELECT * FROM (" + sql + ") AS _t LIMIT 0")["columns"]

    @property
    def columns(self):
        return [c["name"] for c in self._columns]

    @property
    def dtypes(self):
        return [(c["name"], c["type"]) for c in self._columns]

    def _from(self):
        return "(" + self._sql + ") AS _t"

    def filter(self, condition):
        cond = condition._sql if isinstance(condition, Column) else str(condition)
        return DataFrame("SELECT * FROM " + self._from() + " WHERE " + cond)

    where = filter

    def select(self, *cols):
        if len(cols) == 1 and isinstance(cols[0], (list, tuple)):
            cols = tuple(cols[0])
        return DataFrame("SELECT " + ", ".join(_col_sql(c) for c in cols) + " FROM " + self._from())

    def selectExpr(self, *exprs):
        return DataFrame("SELECT " + ", ".join(exprs) + " FROM " + self._from())

    def withColumn(self, name, column):
        if name in self.columns:
            return DataFrame("SELECT * REPLACE (" + _to_sql(column) + " AS " + _quote(name) + ") FROM " + self._from())
        return DataFrame("SELECT *, " + _to_sql(column) + " AS " + _quote(name) + " FROM " + self._from())

    def withColumnRenamed(self, old, new):
        parts = [(_quote(c) + " AS " + _quote(new)) if c == old else _quote(c) for c in self.columns]
        return DataFrame("SELECT " + ", ".join(parts) + " FROM " + self._from())

    def drop(self, *cols):
        keep = [_quote(c) for c in self.columns if c not in cols]
        return DataFrame("SELECT " + ", ".join(keep) + " FROM " + self._from())

    def groupBy(self, *cols):
        if len(cols) == 1 and isinstance(cols[0], (list, tuple)):
            cols = tuple(cols[0])
        return GroupedData(self, [_col_sql(c) for c in cols])

    groupby = groupBy

    def agg(self, *exprs):
        return GroupedData(self, []).agg(*exprs)

    def orderBy(self, *cols, ascending=True):
        keys = [_col_sql(c) + ("" if ascending or isinstance(c, Column) else " DESC") for c in cols]
        return DataFrame("SELECT * FROM " + self._from() + " ORDER BY " + ", ".join(keys))

    sort = orderBy

    def limit(self, n):
        return DataFrame("SELECT * FROM " + self._from() + " LIMIT " + str(int(n)))

    def distinct(self):
        return DataFrame("SELECT DISTINCT * FROM " + self._from())

    def join(self, other, on=None, how="inner"):
        how = {"left_outer": "left", "right_outer": "right", "outer": "full", "full_outer": "full"}.get(how, how)
        if on is None:
            return DataFrame("SELECT * FROM (" + self._sql + ") AS _l CROSS JOIN (" + other._sql + ") AS _r")
        if isinstance(on, str):
            on = [on]
        if isinstance(on, Column):
            return DataFrame(
                "SELECT * FROM (" + self._sql + ") AS _l " + how.upper() + " JOIN (" + other._sql + ") AS _r ON "
                + on._sql
            )
        return DataFrame(
            "SELECT * FROM (" + self._sql + ") AS _l " + how.upper() + " JOIN (" + other._sql + ") AS _r USING ("
            + ", ".join(_quote(c) for c in on) + ")"
        )

    def union(self, other):
        return DataFrame("SELECT * FROM (" + self._sql + ") UNION ALL SELECT * FROM (" + other._sql + ")")

    unionAll = union

    def unionByName(self, other):
        return DataFrame("SELECT * FROM (" + self._sql + ") UNION ALL BY NAME SELECT * FROM (" + other._sql + ")")

    def createOrReplaceTempView(self, name):
        _request("CREATE OR REPLACE TEMP VIEW " + _quote(name) + " AS " + self._sql)

    createTempView = createOrReplaceTempView

    def collect(self):
        answer = _request(self._sql)
        names = [c["name"] for c in answer["columns"]]
        return [Row(names, r) for r in answer["rows"]]

    def take(self, n):
        return self.limit(n).collect()

    def first(self):
        rows = self.take(1)
        return rows[0] if rows else None

    def count(self):
        return _request("SELECT count(*) AS c FROM " + self._from())["rows"][0][0]

    def show(self, n=20, truncate=True):
        answer = _request(self._sql, n)
        names = [c["name"] for c in answer["columns"]]
        rows = [["null" if v is None else str(v) for v in r] for r in answer["rows"]]
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(names)]
        sep = "+" + "+".join("-" * w for w in widths) + "+"
        print(sep)
        print("|" + "|".join(h.rjust(w) for h, w in zip(names, widths)) + "|")
        print(sep)
        for r in rows:
            print("|" + "|".join(v.rjust(w) for v, w in zip(r, widths)) + "|")
        print(sep)

    def __getitem__(self, name):
        return Column(_quote(name), name)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.columns:
            return Column(_quote(name), name)
        raise AttributeError("'DataFrame' object has no attribute '" + name + "'")

    def __repr__(self):
        return "DataFrame[" + ", ".join(c["name"] + ": " + c["type"] for c in self._columns) + "]"


class GroupedData:
    def __init__(self, df, keys):
        self._df = df
        self._keys = keys

    def agg(self, *exprs):
        if len(exprs) == 1 and isinstance(exprs[0], dict):
            exprs = tuple(Column(fn + "(" + _quote(c) + ")") for c, fn in exprs[0].items())
        items = self._keys + [_to_sql(e) for e in exprs]
        group = (" GROUP BY " + ", ".join(self._keys)) if self._keys else ""
        return DataFrame("SELECT " + ", ".join(items) + " FROM " + self._df._from() + group)

    def count(self):
        return self.agg(Column('count(*) AS "count"'))

    def _simple(self, fn, cols):
        return self.agg(*[Column(fn + "(" + _quote(c) + ") AS " + _quote(fn + "(" + c + ")")) for c in cols])

    def sum(self, *cols):
        return self._simple("sum", cols)

    def avg(self, *cols):
        return self._simple("avg", cols)

    def min(self, *cols):
        return self._simple("min", cols)

    def max(self, *cols):
        return self._simple("max", cols)


_DDL = ("CREATE", "DROP", "CACHE", "UNCACHE", "SET", "INSERT", "USE")
_COMMANDS = ("SHOW", "DESCRIBE")


class CommandFrame(DataFrame):
    """The answer of a catalog command (SHOW TABLES, DESCRIBE TABLE): run at once, read back as-is."""

    def __init__(self, sql):
        self._sql = sql
        self._columns = _request(sql)["columns"]


class SparkSession:
    def sql(self, query):
        head = query.lstrip().upper()
        if head.startswith(_DDL):
            _request(query)
            return DataFrame("SELECT 1 AS _ WHERE FALSE")
        if head.startswith(_COMMANDS):
            return CommandFrame(query)
        return DataFrame(query)

    def table(self, name):
        return DataFrame("SELECT * FROM " + _quote(name))

    def range(self, start, end=None):
        if end is None:
            start, end = 0, start
        return DataFrame("SELECT range AS id FROM range(" + str(int(start)) + ", " + str(int(end)) + ")")

    def __repr__(self):
        return "<pyspark.sql.session.SparkSession (Pipebook test stand-in)>"


def _install_modules():
    pyspark = types.ModuleType("pyspark")
    sql = types.ModuleType("pyspark.sql")
    functions = _functions_module()
    utils = types.ModuleType("pyspark.sql.utils")
    utils.AnalysisException = AnalysisException
    utils.ParseException = ParseException
    sql.functions = functions
    sql.DataFrame = DataFrame
    sql.Column = Column
    sql.Row = Row
    sql.SparkSession = SparkSession
    sql.utils = utils
    pyspark.sql = sql
    sys.modules.update(
        {"pyspark": pyspark, "pyspark.sql": sql, "pyspark.sql.functions": functions, "pyspark.sql.utils": utils}
    )


_table = None


def _display(df):
    """Databricks' display(): the command's result becomes a table."""
    global _table
    answer = _request(df._sql, 1000)
    _table = {"columns": answer["columns"], "rows": answer["rows"]}


def _run(code, namespace):
    """Like Livy's fake_shell: run every statement, and print the value of a final expression if it is not None."""
    tree = ast.parse(code, filename="<stdin>", mode="exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, "<stdin>", "exec"), namespace)
    if last is not None:
        value = eval(compile(last, "<stdin>", "eval"), namespace)
        if value is not None:
            print(repr(value))


def main():
    global _table
    _install_modules()
    spark = SparkSession()
    namespace = {"__name__": "__main__", "spark": spark, "display": _display}
    while True:
        line = _proto_in.readline()
        if not line:
            return
        message = json.loads(line)
        captured = io.StringIO()
        _table = None
        sys.stdout = captured
        try:
            _run(message["code"], namespace)
            result = {"type": "result", "status": "ok", "text": captured.getvalue(), "table": _table}
        except BaseException as e:  # noqa: BLE001 - everything the user's code raises is reported, as Livy does
            if isinstance(e, SystemExit):
                raise
            frames = traceback.extract_tb(e.__traceback__)
            # Drop this REPL's own frames so the traceback starts in the user's code, like a notebook shows it.
            user = [f for f in frames if f.filename != __file__]
            lines = ["Traceback (most recent call last):\n"]
            lines += traceback.format_list(user)
            lines += traceback.format_exception_only(type(e), e)
            result = {
                "type": "result",
                "status": "error",
                "ename": type(e).__name__,
                "evalue": str(e),
                "traceback": lines,
            }
        finally:
            sys.stdout = _proto_out
        _proto_out.write(json.dumps(result, default=str) + "\n")
        _proto_out.flush()


if __name__ == "__main__":
    main()
