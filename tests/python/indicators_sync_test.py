"""End to end, as a national ministry's own system would do it: a Python grpcio client built from
protos/ alone syncs a year of indicator values for its cities over SyncValues against the real
gnlc-indicators binary (which checks keys and cities with a real gnlc-membership), loses the
connection before committing, resumes the job, commits it; the secretariat reviews and publishes
one city's dataset, and a partner sees the published data and the publication, nothing else.

Usage: indicators_sync_test.py MEMBERSHIP_BINARY INDICATORS_BINARY PROTO_DIR
"""
import os, queue, sys, unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from membership_server import IndicatorsStack, compile_protos  # noqa: E402

MEMBERSHIP_BINARY, INDICATORS_BINARY, PROTO_DIR = sys.argv[1], sys.argv[2], sys.argv[3]
compile_protos(PROTO_DIR)
import grpc  # noqa: E402
from gnlc.indicators.v1 import indicators_pb2 as i, indicators_pb2_grpc as ig  # noqa: E402

YEAR = 2023
HANGZHOU = f"cities/cn-hangzhou/datasets/{YEAR}"
TIMEOUT = 30  # seconds for any one call or stream


def md(key):
    return [("authorization", f"Bearer {key}")]


def row(city, measure, value, category=""):
    return i.ValueWrite(city_id=f"cn-{city}", year=YEAR, measure=measure, category=category,
                        value=value, source="National Bureau of Statistics")


# Rows 2-9 of the ministry's file: row 8 is out of range (a percentage of 140).
B1 = i.SyncBatch(batch_id="b1", first_row=2, rows=[
    row("hangzhou", "1.1.2a", 61.5),
    row("hangzhou", "1.3.2b", 4),
    row("hangzhou", "1.1.1a", 97.2, "male"),
    row("hangzhou", "1.1.1a", 95.8, "female"),
    row("hangzhou", "1.1.1a", 96.5, "total"),
    row("ningbo", "1.3.2b", 3),
    row("ningbo", "1.1.2a", 140),
    row("ningbo", "1.1.1a", 98.1, "total"),
])
# Row 10: the corrected Ningbo value.
B2 = i.SyncBatch(batch_id="b2", first_row=10, rows=[row("ningbo", "1.1.2a", 58.0)])


class SyncStream:
    """A SyncValues stream driven one message at a time: send, read the answer, send the next."""

    def __init__(self, stub, key):
        self.requests = queue.Queue()
        self.call = stub.SyncValues(iter(self.requests.get, None), metadata=md(key), timeout=TIMEOUT)

    def send(self, **message):
        self.requests.put(i.SyncValuesRequest(**message))
        return next(self.call)

    def cancel(self):
        """Drops the connection, as a crashed client or a cut network would."""
        self.call.cancel()
        self.requests.put(None)  # lets grpc's request thread finish


class IndicatorsSync(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = IndicatorsStack(MEMBERSHIP_BINARY, INDICATORS_BINARY)
        cls.secretariat = cls.stack.secretariat
        cls.values = ig.IndicatorServiceStub(cls.stack.indicators.channel)

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def create_city(self, city_id, en, zh):
        self.stack.create_city(city_id, en, zh)

    def issue(self, principal):
        return self.stack.issue(principal)

    def changes(self):
        """The whole change feed, as the secretariat sees it."""
        return list(self.values.ListChanges(i.ListChangesRequest(page_size=500),
                                            metadata=md(self.secretariat), timeout=TIMEOUT).changes)

    def published(self, key, city_id):
        got = self.values.ListValues(i.ListValuesRequest(city_id=city_id, year=YEAR),
                                     metadata=md(key), timeout=TIMEOUT).values
        return sorted((v.dataset, v.measure, v.category, v.value) for v in got)

    def test_ministry_syncs_resumes_and_partner_sees_the_publication(self):
        # The secretariat registers the cities and issues the keys.
        self.create_city("cn-hangzhou", "Hangzhou", "杭州")
        self.create_city("cn-ningbo", "Ningbo", "宁波")
        ministry = self.issue("ministry:CN")
        partner = self.issue("partner:oecd")

        # The ministry opens a job and sends its first batch.
        sync = SyncStream(self.values, ministry)
        job = sync.send(start=i.SyncStart(mode=i.MERGE, description="2023 national return")).job
        self.assertTrue(job.job_id)
        self.assertEqual(job.state, i.OPEN)
        self.assertEqual(job.owner, "ministry:CN")
        self.assertEqual(list(job.acknowledged_batches), [])
        ack = sync.send(batch=B1).batch
        self.assertEqual((ack.batch_id, ack.rows, ack.applied, ack.unchanged, ack.rejected),
                         ("b1", 8, 7, 0, 1))
        self.assertFalse(ack.replayed)
        self.assertEqual([(r.code, list(r.rows)) for r in ack.rejections], [("OUT_OF_RANGE", [8])])
        self.assertTrue(ack.rejections[0].example.startswith("row 8:"), ack.rejections[0].example)
        self.assertIn("140", ack.rejections[0].example)

        # The connection drops before the commit.
        sync.cancel()
        with self.assertRaises(grpc.RpcError) as e:
            next(sync.call)
        self.assertEqual(e.exception.code(), grpc.StatusCode.CANCELLED)
        # The acknowledged batch is durable: its seven values are in the change feed.
        before = self.changes()
        written = [(ch.city_id, ch.measure, ch.category, ch.value) for ch in before
                   if ch.kind == i.VALUE_WRITTEN and ch.origin == f"importJobs/{job.job_id}/batches/b1"]
        self.assertEqual(sorted(written), sorted((w.city_id, w.measure, w.category, w.value)
                                                 for n, w in enumerate(B1.rows) if n != 6))
        self.assertEqual(len(before), 7)
        left = self.values.GetImportJob(i.GetImportJobRequest(name=job.name), metadata=md(ministry),
                                        timeout=TIMEOUT).job
        self.assertEqual((left.state, list(left.acknowledged_batches)), (i.OPEN, ["b1"]))

        # A new stream resumes the job after its last acknowledged batch.
        sync = SyncStream(self.values, ministry)
        resumed = sync.send(start=i.SyncStart(job_id=job.job_id)).job
        self.assertEqual(resumed.job_id, job.job_id)
        self.assertEqual(resumed.state, i.OPEN)
        self.assertEqual(list(resumed.acknowledged_batches), ["b1"])
        # Not sure b1 arrived? Sending it again applies nothing and answers as the first time.
        again = sync.send(batch=B1).batch
        self.assertTrue(again.replayed)
        first = i.BatchResult()
        first.CopyFrom(ack)
        first.replayed = True
        self.assertEqual(again, first)
        self.assertEqual(self.changes(), before)
        ack2 = sync.send(batch=B2).batch
        self.assertEqual((ack2.batch_id, ack2.rows, ack2.applied, ack2.rejected, ack2.replayed),
                         ("b2", 1, 1, 0, False))
        committed = sync.send(commit=i.SyncCommit()).committed
        self.assertEqual(committed.job_id, job.job_id)
        self.assertEqual(committed.state, i.COMMITTED)
        self.assertEqual(list(committed.acknowledged_batches), ["b1", "b2"])
        s = committed.summary
        self.assertEqual((s.batches, s.rows, s.applied, s.unchanged, s.rejected, s.warnings, s.removed),
                         (2, 9, 8, 0, 1, 0, 0))
        self.assertEqual([(r.code, list(r.rows)) for r in s.rejections], [("OUT_OF_RANGE", [8])])
        sync.requests.put(None)  # the client is done sending: the server ends the stream
        self.assertEqual(list(sync.call), [])
        self.assertEqual(sync.call.code(), grpc.StatusCode.OK)
        self.assertEqual(len(self.changes()), 8)

        # Review: the ministry submits Hangzhou, the secretariat validates and publishes it.
        ds = self.values.GetDataset(i.GetDatasetRequest(name=HANGZHOU), metadata=md(ministry),
                                    timeout=TIMEOUT).dataset
        self.assertEqual((ds.state, ds.value_count), (i.DRAFT, 5))
        ds = self.values.SubmitDataset(i.SubmitDatasetRequest(name=HANGZHOU, etag=ds.etag),
                                       metadata=md(ministry), timeout=TIMEOUT).dataset
        self.assertEqual(ds.state, i.SUBMITTED)
        ds = self.values.ValidateDataset(i.ValidateDatasetRequest(name=HANGZHOU, etag=ds.etag),
                                         metadata=md(self.secretariat), timeout=TIMEOUT).dataset
        self.assertEqual(ds.state, i.VALIDATED)
        ds = self.values.PublishDataset(i.PublishDatasetRequest(name=HANGZHOU, etag=ds.etag),
                                        metadata=md(self.secretariat), timeout=TIMEOUT).dataset
        self.assertEqual((ds.state, ds.published_revision), (i.PUBLISHED, 1))
        self.assertEqual([h.action for h in ds.history], ["created", "submitted", "validated", "published"])

        # The partner reads Hangzhou's published values; Ningbo's exist but are not published.
        self.assertEqual(self.published(partner, "cn-hangzhou"), sorted(
            (HANGZHOU, w.measure, w.category, w.value) for w in B1.rows[:5]))
        ningbo = self.values.ListValues(i.ListValuesRequest(city_id="cn-ningbo", year=YEAR, working_copy=True),
                                        metadata=md(ministry), timeout=TIMEOUT).values
        self.assertEqual(sorted((v.measure, v.category, v.value) for v in ningbo),
                         [("1.1.1a", "total", 98.1), ("1.1.2a", "", 58.0), ("1.3.2b", "", 3.0)])
        self.assertEqual(self.published(partner, "cn-ningbo"), [])

        # The partner follows the change feed from the start: it sees the publication only.
        watch = self.values.WatchChanges(i.WatchChangesRequest(start_at_now=False),
                                         metadata=md(partner), timeout=TIMEOUT)
        seen = []
        for response in watch:
            seen.extend(response.changes)
            if any(ch.kind == i.DATASET_PUBLISHED and ch.dataset == HANGZHOU for ch in seen):
                break
        watch.cancel()
        self.assertEqual([(ch.kind, ch.dataset, ch.revision) for ch in seen],
                         [(i.DATASET_PUBLISHED, HANGZHOU, 1)])
        self.assertNotIn(i.VALUE_WRITTEN, [ch.kind for ch in seen])
        # ...while the feed holds the values written and every review step.
        kinds = [ch.kind for ch in self.changes()]
        self.assertEqual(kinds, [i.VALUE_WRITTEN] * 8 + [i.DATASET_SUBMITTED, i.DATASET_VALIDATED,
                                                         i.DATASET_PUBLISHED])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
