"""Markdown tables from ``instance/bench/results-*.json`` (written by bench/run.py).

.venv/bin/python bench/report.py          # prints and writes instance/bench/report.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "instance" / "bench"


def _cell(row, key):
    value = row.get(key)
    if not value:
        return "—"
    cpu = f" (CPU {value['cpu_ms']:.0f})" if "cpu_ms" in value else ""
    return f"{value['ms']:.0f} ms{cpu} / {value['queries']:g} q"


def _ratio(slow, fast, measure="ms"):
    if not slow or not fast or not fast.get(measure) or measure not in slow:
        return "—"
    return f"{slow[measure] / fast[measure]:.1f}x"


def _ratios(slow, fast):
    wall = _ratio(slow, fast)
    cpu = _ratio(slow, fast, "cpu_ms")
    return wall if cpu == "—" else f"{wall} (CPU {cpu})"


def lists_table(results) -> list[str]:
    lines = []
    for label, entry in results["scales"].items():
        if "lists" not in entry:
            continue
        lines += [
            f"\n**{results['backend']}, {label} requests** (median wall ms, (median CPU ms of the app "
            "process), SQL statements per request incl. the 1 of the session check)\n",
            "| page | ours, directorate | stock | speed-up | ours, reviewer | stock + university where | speed-up |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, row in entry["lists"].items():
            lines.append(
                f"| {name} | {_cell(row, 'ours_director')} | {_cell(row, 'stock')} | "
                f"{_ratios(row.get('stock'), row.get('ours_director'))} | {_cell(row, 'ours_reviewer')} | "
                f"{_cell(row, 'stock_university')} | "
                f"{_ratios(row.get('stock_university'), row.get('ours_reviewer'))} |"
            )
    return lines


def page_size_table(results) -> list[str]:
    lines = [
        f"\n**{results['backend']}: SQL statements per list page by page size** (directorate; "
        "1 of them is the session check)\n",
        "| scale | view | 25 rows | 100 rows |",
        "|---|---|---|---|",
    ]
    for label, entry in results["scales"].items():
        for endpoint, row in entry.get("page_size", {}).items():
            lines.append(f"| {label} | {endpoint} (ours) | {_cell(row, '25')} | {_cell(row, '100')} |")
            if "stock 25" in row:
                lines.append(
                    f"| {label} | qualification (stock) | {_cell(row, 'stock 25')} | {_cell(row, 'stock 100')} |"
                )
    return lines


def scaling_table(results) -> list[str]:
    labels = [label for label, entry in results["scales"].items() if "lists" in entry]
    if not labels:
        return []
    lines = [
        f"\n**{results['backend']}: cost of each page by table size** (ours, in-process medians: "
        "wall ms / CPU ms of the app process / ms in SQL)\n",
        # the ratio of the last scale run to the first, named by the scales that were run
        "| page | " + " | ".join(labels) + f" | {labels[-1]} / {labels[0]} (wall, CPU, SQL) |",
        "|---|" + "---|" * (len(labels) + 1),
    ]
    pages = []
    first = results["scales"][labels[0]]
    for name in first["lists"]:
        pages.append((f"{name}, directorate", lambda e, n=name: e["lists"][n]["ours_director"]))
        pages.append((f"{name}, reviewer", lambda e, n=name: e["lists"][n]["ours_reviewer"]))
    for name in first.get("officer_inprocess", {}):
        pages.append((name, lambda e, n=name: e["officer_inprocess"][n]))
    for title, get in pages:
        values = [get(results["scales"][label]) for label in labels]

        def ratio(key, values=values):
            first, last = values[0].get(key), values[-1].get(key)
            return f"{last / first:.2f}x" if first and last is not None else "—"

        lines.append(
            f"| {title} | "
            + " | ".join(f"{v['ms']:.0f} / {v.get('cpu_ms', 0):.0f} / {v.get('sql_ms', 0):.1f}" for v in values)
            + f" | {ratio('ms')}, {ratio('cpu_ms')}, {ratio('sql_ms')} |"
        )
    return lines


def export_table(results) -> list[str]:
    lines = [
        f"\n**{results['backend']}: CSV export of every row, directorate** (child process)\n",
        "| rows | view | first byte (first row) | total | rows/s (wall) | rows per CPU second | peak RSS (before) "
        "| SQL statements |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, entry in results["scales"].items():
        for which, row in entry.get("export", {}).items():
            if row.get("status") == "killed":
                lines.append(
                    f"| {label} | {which} | no byte after {row['timeout_s']:.0f} s (killed) | — | — | "
                    f"{row['peak_rss_mib']} MiB so far | — | — |"
                )
            elif row.get("status") == 200:
                first_row = f" ({row['first_row_s']:.3f} s)" if "first_row_s" in row else ""
                lines.append(
                    f"| {row['rows']:,} | {which} | {row['ttfb_s']:.3f} s{first_row} | {row['total_s']:.1f} s | "
                    f"{row['rows_per_s']:,} | {row.get('rows_per_cpu_s', 0):,} | "
                    f"{row['peak_rss_mib']} MiB ({row['rss_before_mib']}) | "
                    f"{row['queries']} |"
                )
            else:
                lines.append(f"| {label} | {which} | failed: {row.get('status')} | | | | | |")
    return lines


def http_table(results) -> list[str]:
    lines = []
    for label, entry in results["scales"].items():
        if "http" not in entry:
            continue
        lines += [
            f"\n**{results['backend']}, {label}: gunicorn (gunicorn.conf.py: 5 gthread workers) "
            "+ wrk or bench/load.py (fixed rate) on 127.0.0.1**\n",
            "| load | connections | req/s | server CPU per request | p50 | p90 | p95 | p99 | non-2xx |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        if entry.get("http_note"):
            lines.append(f"_{entry['http_note']}_\n")
        for name, row in entry["http"].items():
            if "rps" not in row:  # the memory run: a table of its own
                continue
            lines.append(
                f"| {name} | {row['connections']} | {row['rps']} | {row.get('cpu_ms', '—')} ms | "
                f"{row['p50_ms']:.1f} ms | "
                f"{row['p90_ms']:.1f} ms | {row['p95_ms']:.1f} ms | {row['p99_ms']:.1f} ms | "
                f"{row['non2xx'] + row['socket_errors']} |"
            )
    return lines


def _cpu_ratio(slow, fast) -> str:
    if not slow or not fast or not fast.get("cpu_ms") or slow.get("cpu_ms") is None:
        return "—"
    return f"{slow['cpu_ms'] / fast['cpu_ms']:.2f}x"


def targets_table(results) -> list[str]:
    """Issue 23's yardstick: the cartable and the officer dashboard against the minimal page
    (session check, one query, a small template: bench/minimal.py), CPU per request."""
    lines = []
    for label, entry in results["scales"].items():
        minimal = entry.get("minimal_inprocess")
        if not minimal:
            continue
        lines += [
            f"\n**{results['backend']}, {label}: against the minimal page** (CPU ms per request of the "
            "application; in-process medians, and under gunicorn the server's CPU per request)\n",
            "| page | CPU ms | minimal page, CPU ms | ratio |",
            "|---|---|---|---|",
        ]
        first = entry["lists"].get("first page", {})
        mine = entry["lists"].get("needs my decision", {})
        officer = entry.get("officer_inprocess", {})
        rows = [
            (
                "in-process: cartable first page (tab=all), directorate",
                first.get("ours_director"),
                minimal["directorate"],
            ),
            ("in-process: cartable first page (tab=all), reviewer", first.get("ours_reviewer"), minimal["reviewer"]),
            ("in-process: needs my decision, directorate", mine.get("ours_director"), minimal["directorate"]),
            ("in-process: needs my decision, reviewer", mine.get("ours_reviewer"), minimal["reviewer"]),
            ("in-process: officer dashboard", officer.get("/officer/"), officer.get("minimal page (officer)")),
        ]
        http = entry.get("http", {})
        if "minimal page, directorate" in http:
            base, officers_base = http["minimal page, directorate"], http.get("minimal page, officers")
            for name, row in http.items():
                if name.startswith("cartable") and "(ours)" in name:
                    rows.append((f"gunicorn: {name}", row, base))
            rows.append(
                (
                    "gunicorn: officer dashboard (4 conn.)",
                    http.get("officer dashboard, full speed (4 conn.)"),
                    officers_base,
                )
            )
        for title, page, yardstick in rows:
            if page and yardstick:
                lines.append(
                    f"| {title} | {page['cpu_ms']:.2f} | {yardstick['cpu_ms']:.2f} | {_cpu_ratio(page, yardstick)} |"
                )
    return lines


def every_filter_table(results) -> list[str]:
    lines = []
    for label, entry in results["scales"].items():
        pages = entry.get("every_filter")
        if not pages:
            continue
        base = next(iter(pages.values()))
        lines += [
            f"\n**{results['backend']}, {label}: every tab, filter and sort of the qualification cartable** "
            "(in-process medians: wall ms / CPU ms / SQL ms; the ratio is CPU against the unfiltered first page)\n",
            "| page | directorate | ratio | reviewer | ratio |",
            "|---|---|---|---|---|",
        ]
        for name, row in pages.items():
            cells = []
            for who in ("ours_director", "ours_reviewer"):
                value = row[who]
                cells += [
                    f"{value['ms']:.1f} / {value['cpu_ms']:.1f} / {value['sql_ms']:.1f}",
                    _cpu_ratio(value, base[who]),
                ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def memory_table(results) -> list[str]:
    lines = []
    for label, entry in results["scales"].items():
        row = entry.get("http", {}).get("memory over 5,000 requests (1 worker)")
        if not row:
            continue
        lines += [
            f"\n**{results['backend']}, {label}: one worker's resident memory over {row['requests']:,} requests** "
            f"(after {row.get('warmup', 0):,} of warm-up) "
            f"(every page kind in turn; non-2xx: {row['non2xx']}; growth after the first step: "
            f"{row['growth_after_first_step_mib']} MiB)\n",
            "| requests | " + " | ".join(f"{count:,}" for count, _ in row["rss_mib"]) + " |",
            "|---|" + "---|" * len(row["rss_mib"]),
            "| RSS MiB | " + " | ".join(f"{mib}" for _, mib in row["rss_mib"]) + " |",
        ]
    return lines


def write_report(out: Path = OUT) -> str:
    lines = []
    for path in sorted(out.glob("results-*.json")):
        results = json.loads(path.read_text())
        machine = results["machine"]
        lines += [
            f"\n## {results['backend']} ({machine['date']}, load average at start "
            f"{', '.join(f'{x:.1f}' for x in machine['loadavg'])})"
        ]
        for part in (
            targets_table,
            lists_table,
            every_filter_table,
            page_size_table,
            export_table,
            http_table,
            memory_table,
            scaling_table,
        ):
            lines += part(results)
    text = "\n".join(lines) + "\n"
    (out / "report.md").write_text(text)
    return text


if __name__ == "__main__":
    sys.stdout.write(write_report(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
