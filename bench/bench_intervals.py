"""Time the interval planner: which intervals of a time-range model are missing, for fine grains over long
spans, against DuckDB computing the same answer by listing every interval (generate_series + anti-join,
what a planner that stores one row per interval does).

    python bench/bench_intervals.py [--years 10] [--grain "5 minutes"] [--gaps 500] [--repeat 5]

Prints the planner's time (best of --repeat), DuckDB's, and their ratio. The answers are compared: the
number of missing intervals must be the same.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

import duckdb

from sqlflow.state.intervals import Grain, Interval, RangeSet, batches, count_intervals, missing


def ledger(begin: datetime, end: datetime, step: timedelta, gaps: int, seed: int) -> RangeSet:
    """Everything in [begin, end) processed but `gaps` holes of 1-5 intervals."""
    rng = random.Random(seed)
    total = (end - begin) // step
    holes = sorted(rng.sample(range(total - 10), gaps))
    ranges, cursor = [], begin
    for h in holes:
        start = begin + h * step
        if start > cursor:
            ranges.append(Interval(cursor, start))
        cursor = max(cursor, start + rng.randint(1, 5) * step)
    ranges.append(Interval(cursor, end))
    return RangeSet(ranges)


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        clock = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - clock)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--grain", default="5 minutes")
    parser.add_argument("--gaps", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    grain = Grain.parse(args.grain)
    step = grain.fixed
    if step is None:
        parser.error("use a minute or hour grain (the DuckDB comparison needs a fixed step)")
    begin = datetime(2015, 1, 1, tzinfo=UTC)
    now = begin.replace(year=begin.year + args.years) + timedelta(minutes=3)
    done = ledger(begin, grain.floor(now), step, args.gaps, args.seed)
    total = (grain.floor(now) - begin) // step

    def plan() -> tuple[int, str]:
        todo = missing(done, begin, now, grain)
        first = next(batches(todo, grain), None)
        return count_intervals(todo, grain), str(first)

    ours, (n_ours, first) = best(plan, args.repeat)

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute('create table ledger ("start" timestamptz, "end" timestamptz)')
    con.executemany("insert into ledger values (?, ?)", [(r.start, r.end) for r in done])
    minutes = int(step.total_seconds() // 60)
    sql = f"""
        select count(*) from generate_series(
            timestamptz '{begin.isoformat()}', timestamptz '{grain.floor(now).isoformat()}'
            - interval {minutes} minute, interval {minutes} minute) as s(t)
        where not exists (select 1 from ledger l where s.t >= l."start" and s.t < l."end")
    """
    raw, rows = best(lambda: con.execute(sql).fetchall(), max(1, args.repeat // 2))
    n_raw = rows[0][0]  # type: ignore[index]
    print(f"grain {args.grain}, {args.years} years: {total:,} intervals, {len(done):,} ledger rows")
    print(f"missing intervals: planner {n_ours:,}, DuckDB {n_raw:,}  (first batch {first})")
    print(f"planner  {ours * 1000:9.2f} ms")
    print(f"DuckDB   {raw * 1000:9.2f} ms  (one row per interval)")
    print(f"ratio    {raw / ours:9.1f}x faster than listing every interval")
    if n_ours != n_raw:
        raise SystemExit("the answers differ")


if __name__ == "__main__":
    main()
