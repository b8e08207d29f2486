"""End to end, as a ministry's data officer does it with the gnlc CLI against the real
gnlc-indicators and gnlc-membership binaries: imports a year of indicator values from a CSV file
(in batches; a row out of range is rejected by the server, a line the CLI cannot read is reported
by the CLI and not sent), exports them back, replaces one city's data with a shorter file, checks
a file with a dry run, has one city's dataset reviewed and published and reads it anonymously, and
finishes an import job another client left open.

Usage: cli_import_test.py MEMBERSHIP_BINARY INDICATORS_BINARY GNLC_CLI PROTO_DIR
"""
import csv, io, json, os, queue, re, subprocess, sys, tempfile, unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from membership_server import IndicatorsStack, compile_protos  # noqa: E402

MEMBERSHIP_BINARY, INDICATORS_BINARY, CLI, PROTO_DIR = sys.argv[1:5]
CLI = os.path.abspath(CLI)  # runs in the test's temporary directory
compile_protos(PROTO_DIR)
from gnlc.indicators.v1 import indicators_pb2 as i, indicators_pb2_grpc as ig  # noqa: E402

HEADER = "city_id,year,measure,category,value,flags,source,comment"
EXPORT_HEADER = ("city_id,year,measure,category,value,flags,source,comment,warnings,stored_by,"
                 "store_time")
KEY = ("city_id", "year", "measure", "category")
TIMEOUT = 30  # seconds for any one call, stream or CLI run

# The ministry's return for 2023; a file's line n is LINES[n - 1].
LINES = [
    HEADER,
    'cn-hangzhou,2023,1.1.2a,,61.5,,"Hangzhou Statistics Bureau, election office",2021 election',
    "cn-hangzhou,2023,1.3.2b,,4,estimate,Hangzhou transport survey,",
    "cn-hangzhou,2023,1.1.1a,male,97.2,,National Bureau of Statistics,",
    "cn-hangzhou,2023,1.1.1a,female,95.8,,National Bureau of Statistics,",
    "cn-hangzhou,2023,1.1.1a,total,96.5,provisional,National Bureau of Statistics,",
    "cn-hangzhou,2023,1.2.1b,,,not_applicable,Hangzhou civil affairs,no poverty line defined",
    "cn-hangzhou,2023,2.2.3a,,37,confidential,Hangzhou education bureau,",
    "",
    "cn-ningbo,2023,1.3.2b,,3,,Ningbo transport survey,",
    "cn-ningbo,2023,1.1.2a,,140,,Ningbo statistics,",
    "cn-ningbo,20x3,1.1.3a,,32.1,,Ningbo statistics,",
    "cn-ningbo,2023,1.1.1a,total,98.1,estimate;provisional,Ningbo statistics,",
    'cn-ningbo,2023,2.2.3a,,12,,"Ningbo education bureau, lifelong learning office",',
]
OUT_OF_RANGE_LINE = 11  # a percentage of 140: the server rejects it
UNREADABLE_LINE = 12  # year "20x3": the CLI cannot read it and does not send it
assert ",140," in LINES[OUT_OF_RANGE_LINE - 1] and ",20x3," in LINES[UNREADABLE_LINE - 1]
DATA_LINES = [n for n in range(2, len(LINES) + 1) if LINES[n - 1]]  # 12 rows; line 9 is blank
GOOD_LINES = [n for n in DATA_LINES if n not in (OUT_OF_RANGE_LINE, UNREADABLE_LINE)]

# Hangzhou again, with 1.3.2b and 1.2.1b left out and 1.1.2a corrected: replaces Hangzhou's 2023.
REPLACEMENT = [
    HEADER,
    'cn-hangzhou,2023,1.1.2a,,62,,"Hangzhou Statistics Bureau, election office",2021 election',
    "cn-hangzhou,2023,1.1.1a,male,97.2,,National Bureau of Statistics,",
    "cn-hangzhou,2023,1.1.1a,female,95.8,,National Bureau of Statistics,",
    "cn-hangzhou,2023,1.1.1a,total,96.5,provisional,National Bureau of Statistics,",
    "cn-hangzhou,2023,2.2.3a,,37,confidential,Hangzhou education bureau,",
]

# Checked with --dry_run only: a new Hangzhou value and a new Ningbo row.
TRIAL = [
    HEADER,
    "cn-hangzhou,2023,1.1.2a,,70,,Hangzhou Statistics Bureau,",
    "cn-ningbo,2023,1.1.3a,,30,,Ningbo statistics,",
]

# Ningbo's late figures, imported by resuming a job whose first batch (lines 2-3) is stored.
LATE = [
    HEADER,
    "cn-ningbo,2023,1.1.3a,,32.1,,Ningbo statistics,",
    "cn-ningbo,2023,1.2.2a,male,4.1,,Ningbo human resources bureau,",
    "cn-ningbo,2023,1.2.2a,female,3.9,,Ningbo human resources bureau,",
    "cn-ningbo,2023,1.2.2a,total,4,,Ningbo human resources bureau,",
]


def rows_of(lines, numbers=None):
    """The file's rows as dicts, by line number (all data lines if `numbers` is None)."""
    if numbers is None:
        numbers = [n for n in range(2, len(lines) + 1) if lines[n - 1]]
    fields = HEADER.split(",")
    return {n: dict(zip(fields, next(csv.reader([lines[n - 1]])))) for n in numbers}


def row_key(row):
    return tuple(row[k] for k in KEY)


def value_write(row):
    """A CSV row as the CLI sends it."""
    w = i.ValueWrite(city_id=row["city_id"], year=int(row["year"]), measure=row["measure"],
                     category=row["category"], source=row["source"], comment=row["comment"])
    if row["value"]:
        w.value = float(row["value"])
    for flag in filter(None, row["flags"].split(";")):
        setattr(w.flags, flag, True)
    return w


def summary_field(stdout, label):
    """A number from the job summary the CLI prints ("Removed:    2")."""
    found = re.search(rf"^{label}:\s+(\d+)$", stdout, re.M)
    assert found, f"no '{label}:' in the summary:\n{stdout}"
    return int(found.group(1))


class CliImport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = IndicatorsStack(MEMBERSHIP_BINARY, INDICATORS_BINARY)
        cls.dir = tempfile.mkdtemp(prefix="gnlc-py-csv-")
        cls.values = ig.IndicatorServiceStub(cls.stack.indicators.channel)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def write(self, name, lines):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def gnlc(self, *args, key=None):
        """Runs the CLI with `key` in GNLC_API_KEY (anonymous if None)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GNLC_")}
        if key is not None:
            env["GNLC_API_KEY"] = key
        cmd = [CLI, f"--membership_addr={self.stack.membership.address}",
               f"--indicators_addr={self.stack.indicators.address}", *args]
        done = subprocess.run(cmd, env=env, cwd=self.dir, capture_output=True, text=True,
                              timeout=TIMEOUT)
        done.report = (f"$ gnlc {' '.join(args)}\nexit {done.returncode}\n"
                       f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}")
        return done

    def export(self, *flags, key=None):
        """`gnlc indicators export`: the rows as dicts by (city, year, measure, category)."""
        run = self.gnlc("indicators", "export", *flags, key=key)
        self.assertEqual(run.returncode, 0, run.report)
        self.assertEqual(run.stdout.splitlines()[0], EXPORT_HEADER, run.report)
        rows = list(csv.DictReader(io.StringIO(run.stdout, newline="")))
        self.assertIn(f"{len(rows)} values exported", run.stderr, run.report)
        by_key = {row_key(r): r for r in rows}
        self.assertEqual(len(by_key), len(rows), run.report)
        return by_key, run.stdout

    def assertExported(self, exported, expected_rows, context):
        """The export holds exactly `expected_rows` (dicts from a CSV file), each with the same
        value (compared as numbers), flags, source and comment."""
        expected = {row_key(r): r for r in expected_rows}
        self.assertEqual(sorted(exported), sorted(expected), context)
        for k, want in expected.items():
            got = exported[k]
            if want["value"]:
                self.assertEqual(float(got["value"]), float(want["value"]), (k, context))
            else:
                self.assertEqual(got["value"], "", (k, context))
            self.assertEqual(set(filter(None, got["flags"].split(";"))),
                             set(filter(None, want["flags"].split(";"))), (k, context))
            self.assertEqual(got["source"], want["source"], (k, context))
            self.assertEqual(got["comment"], want["comment"], (k, context))

    def test_data_officer_imports_replaces_checks_publishes_and_resumes(self):
        # 1. The secretariat registers two Chinese cities and issues the ministry's key.
        self.stack.create_city("cn-hangzhou", "Hangzhou", "杭州")
        self.stack.create_city("cn-ningbo", "Ningbo", "宁波")
        ministry = self.stack.issue("ministry:CN")
        secretariat = self.stack.secretariat

        # 2. The ministry imports its file three rows at a time.
        first = self.write("return-2023.csv", LINES)
        run = self.gnlc("indicators", "import", first, "--batch_rows=3", key=ministry)
        self.assertEqual(run.returncode, 1, run.report)  # some rows rejected, the rest stored
        self.assertRegex(run.stdout, rf"(?m)^\s*OUT_OF_RANGE \(1\): rows {OUT_OF_RANGE_LINE}$")
        self.assertRegex(run.stdout, rf"(?m)^\s*e\.g\. row {OUT_OF_RANGE_LINE}: .*140")
        self.assertEqual(summary_field(run.stdout, "Rows"), len(DATA_LINES) - 1, run.report)
        self.assertEqual(summary_field(run.stdout, "Applied"), len(GOOD_LINES), run.report)
        self.assertEqual(summary_field(run.stdout, "Rejected"), 1, run.report)
        self.assertRegex(run.stderr, rf"(?m)^\s*line {UNREADABLE_LINE}: .*'20x3'", run.report)
        self.assertNotRegex(run.stdout, rf"\b{UNREADABLE_LINE}\b.*20x3", run.report)
        good = rows_of(LINES, GOOD_LINES)
        for city in ("cn-hangzhou", "cn-ningbo"):
            exported, _ = self.export("--working_copy", f"--city={city}", key=ministry)
            self.assertExported(exported, [r for r in good.values() if r["city_id"] == city],
                                f"{city} after the first import\n{run.report}")
        _, ningbo_before = self.export("--working_copy", "--city=cn-ningbo", key=ministry)

        # 3. A shorter file replaces Hangzhou's 2023 data; Ningbo, not in the file, is untouched.
        replacement = self.write("hangzhou-2023-corrected.csv", REPLACEMENT)
        run = self.gnlc("indicators", "import", replacement, "--mode=replace", key=ministry)
        self.assertEqual(run.returncode, 0, run.report)
        self.assertRegex(run.stdout, r"(?m)^Mode:\s+replace$", run.report)
        self.assertEqual(summary_field(run.stdout, "Removed"), 2, run.report)  # 1.3.2b, 1.2.1b
        self.assertEqual(summary_field(run.stdout, "Rejected"), 0, run.report)
        hangzhou, _ = self.export("--working_copy", "--city=cn-hangzhou", key=ministry)
        self.assertExported(hangzhou, rows_of(REPLACEMENT).values(), run.report)
        self.assertNotIn(("cn-hangzhou", "2023", "1.3.2b", ""), hangzhou)
        self.assertEqual(float(hangzhou[("cn-hangzhou", "2023", "1.1.2a", "")]["value"]), 62.0)
        _, ningbo_after = self.export("--working_copy", "--city=cn-ningbo", key=ministry)
        self.assertEqual(ningbo_after, ningbo_before)

        # 4. A dry run checks a file and stores nothing.
        _, everything_before = self.export("--working_copy", key=ministry)
        trial = self.write("trial.csv", TRIAL)
        run = self.gnlc("indicators", "import", trial, "--dry_run", key=ministry)
        self.assertEqual(run.returncode, 0, run.report)
        self.assertRegex(run.stdout, r"(?m)^Dry run:\s+yes", run.report)
        self.assertEqual(summary_field(run.stdout, "Rejected"), 0, run.report)
        _, everything_after = self.export("--working_copy", key=ministry)
        self.assertEqual(everything_after, everything_before)

        # 5. The ministry submits Hangzhou; the secretariat validates and publishes it. Anyone
        # may then export it, without its confidential row; Ningbo's draft stays private.
        for step, who, state in (("submit", ministry, "submitted"),
                                 ("validate", secretariat, "validated"),
                                 ("publish", secretariat, "published")):
            run = self.gnlc("indicators", "datasets", step, "cn-hangzhou/2023", key=who)
            self.assertEqual(run.returncode, 0, run.report)
            self.assertRegex(run.stdout, rf"(?m)^State:\s+{state}$", run.report)
        published, _ = self.export(key=None)
        public = [r for r in rows_of(REPLACEMENT).values() if "confidential" not in r["flags"]]
        self.assertEqual(len(public), 4)
        self.assertExported(published, public, "anonymous export")
        self.assertNotIn(("cn-hangzhou", "2023", "2.2.3a", ""), published)
        self.assertFalse([r for r in published.values() if "confidential" in r["flags"]])
        self.assertFalse([k for k in published if k[0] != "cn-hangzhou"])

        # 6. Another client of the ministry opened a job, stored lines 2-3 of the late file as
        # the CLI names them, and dropped the connection before committing.
        late = self.write("ningbo-late.csv", LATE)
        late_rows = rows_of(LATE)
        requests = queue.Queue()
        call = self.values.SyncValues(iter(requests.get, None),
                                      metadata=self.stack.md(ministry), timeout=TIMEOUT)
        requests.put(i.SyncValuesRequest(start=i.SyncStart(mode=i.MERGE,
                                                           description="interrupted upload")))
        job = next(call).job
        self.assertEqual(job.state, i.OPEN)
        requests.put(i.SyncValuesRequest(batch=i.SyncBatch(
            batch_id="lines-2-3", first_row=2, rows=[value_write(late_rows[n]) for n in (2, 3)])))
        ack = next(call).batch
        self.assertEqual((ack.batch_id, ack.applied, ack.rejected), ("lines-2-3", 2, 0))
        call.cancel()
        requests.put(None)  # lets grpc's request thread finish
        run = self.gnlc("indicators", "jobs", "show", job.job_id, "--json", key=ministry)
        self.assertEqual(run.returncode, 0, run.report)
        left = json.loads(run.stdout)
        self.assertEqual((left["state"], left["acknowledged_batches"]), ("OPEN", ["lines-2-3"]),
                         run.report)

        # The data officer finishes it with the CLI: lines 2-3 are skipped, 4-5 sent, committed.
        run = self.gnlc("indicators", "import", late, f"--job={job.job_id}", "--batch_rows=2",
                        key=ministry)
        self.assertEqual(run.returncode, 0, run.report)
        self.assertIn(f"resuming {job.job_id}: 1 batches already stored", run.stderr, run.report)
        self.assertRegex(run.stdout, rf"(?m)^Job:\s+{job.job_id}$", run.report)
        self.assertRegex(run.stdout, r"(?m)^State:\s+committed$", run.report)
        run = self.gnlc("indicators", "jobs", "show", job.job_id, "--json", key=ministry)
        self.assertEqual(run.returncode, 0, run.report)
        done = json.loads(run.stdout)
        self.assertEqual(done["state"], "COMMITTED", run.report)
        self.assertEqual(done["acknowledged_batches"], ["lines-2-3", "lines-4-5"], run.report)
        summary = {k: int(v) for k, v in done["summary"].items() if k != "rejections"}
        self.assertEqual({k: summary.get(k, 0) for k in
                          ("batches", "rows", "applied", "unchanged", "rejected", "removed")},
                         {"batches": 2, "rows": len(late_rows), "applied": len(late_rows),
                          "unchanged": 0, "rejected": 0, "removed": 0}, run.report)
        ningbo, _ = self.export("--working_copy", "--city=cn-ningbo", key=ministry)
        self.assertExported(ningbo, [r for r in good.values() if r["city_id"] == "cn-ningbo"]
                            + list(late_rows.values()), "Ningbo after the resumed import")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
