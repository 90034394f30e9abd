"""Fault-injection harness: the real Lambda handlers against moto and a recorded X API.

One run is a short simulated morning of one brand on X:

- the platform is :class:`FakeX`, a ``responses`` callback that serves the tweets recorded in
  ``tests/fixtures/x`` (plus two synthetic ones in the same shape) through the documented
  endpoints (``/users/:id/mentions``, ``/users/:id/tweets``, ``/tweets/search/recent``) with
  ``since_id`` and ``next_token`` paging, two tweets a page, each tweet visible from its
  ``created_at``. Faults are injected per request (:class:`Fault`);
- AWS is moto: the table created from ``template.yaml``, the X token in SSM, the poll queue;
- the handlers are ``functions/dispatch/app.py``, ``functions/poll/app.py`` and
  ``functions/recheck/app.py``, loaded by path with the environment the template gives them.
  After loading, only the clock (``DEPS.clock`` and the store's clock: simulated time) and
  the HTTP backoff sleep (recorded, not slept) are replaced;
- SQS delivery is simulated by :class:`Sqs`: every message a handler sends goes to moto and
  is also recorded, then delivered to the poll handler at its ``DelaySeconds``; a record the
  handler reports as failed (or an invocation that dies) is delivered again after the
  visibility timeout, up to ``maxReceiveCount`` (5, as in the template), then dead-lettered.

:func:`run` drives a schedule (dispatch ticks, deliveries, a final recheck) and returns an
:class:`Outcome`: the stored posts (every attribute), the open markers, the cursor, the
weekly figures, dead letters and what was injected. A test compares a faulty run with the
fault-free one and asserts they are equal.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import itertools
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

import responsegap.pipeline.observability  # noqa: F401 - pins the SDK loggers before the set-up calls AWS
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, Profile
from responsegap.domain.periods import iso, parse_instant, week_period

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "x"
REGION = "us-east-1"
TABLE = "responsegap-faults"
BASE = "https://api.x.com/2"
BRAND_ACCOUNT = "1000"
PROFILE_KEY = "x#acmehelp"
# A fake token with a recognisable shape: the security tests look for it in every output.
TOKEN = "FAKE-x-bearer-9f8e7d6c5b4a-DO-NOT-LOG"
CREDENTIALS_PARAMETER = "/responsegap/x/acmehelp"
PAGE_SIZE = 2
MAX_RECEIVES = 5  # maxReceiveCount of the poll queue's redrive policy
VISIBILITY_SECONDS = 60

START = parse_instant("2026-11-23T10:05:00Z")  # Monday of 2026-W48
END = parse_instant("2026-11-23T13:00:00Z")
WEEK = "2026-W48"
TICK_SECONDS = 600  # dispatch every 10 minutes, so a profile polled every 5 is due each tick
RECHECK_AT = parse_instant("2026-11-23T12:40:00Z")

BRAND = Brand(
    brand_id="acme",
    name="Acme",
    timezone="Europe/London",
    recipients=("lead@example.com",),
    profiles=(
        Profile(
            brand_id="acme",
            platform="x",
            handle="acmehelp",
            account_id=BRAND_ACCOUNT,
            timezone="Europe/London",
            base_url=BASE,
            credentials=CREDENTIALS_PARAMETER,
        ),
    ),
)


class LambdaKilled(BaseException):
    """The Lambda runtime died mid-invocation (timeout, OOM): nothing after it runs.

    A BaseException, so neither the batch processor nor the pipeline catches it, like a
    process that is gone; the harness treats every record of the invocation as undeleted.
    """


# ----------------------------------------------------------------------------- platform


def _recorded_tweets() -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Every tweet and user in the recorded X payloads, by id, plus two synthetic tweets."""
    tweets: dict[str, dict[str, Any]] = {}
    users: dict[str, str] = {}
    for name in (
        "users_id_mentions.page1.json",
        "users_id_mentions.page2.json",
        "users_id_tweets.page1.json",
        "tweets_search_recent.conversation.json",
    ):
        body = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        includes = body.get("includes", {})
        for tweet in [*body.get("data", []), *includes.get("tweets", [])]:
            tweets.setdefault(tweet["id"], tweet)
        for user in includes.get("users", []):
            users[user["id"]] = user["username"]
    # A customer post whose brand reply the platform serves first (see FakeX.hidden_until).
    users["2004"] = "dave_r"
    tweets["1861000000000000800"] = _tweet(
        "1861000000000000800", "2004", "2026-11-23T11:10:00.000Z", "@AcmeHelp my card was charged twice"
    )
    tweets["1861000000000000810"] = _tweet(
        "1861000000000000810",
        BRAND_ACCOUNT,
        "2026-11-23T11:25:00.000Z",
        "@dave_r Sorry Dave, the second charge is reversed now -Anna",
        reply_to=("1861000000000000800", "2004", "dave_r"),
    )
    return tweets, users


def _tweet(
    tweet_id: str, author: str, created: str, text: str, reply_to: tuple[str, str, str] | None = None
) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "edit_history_tweet_ids": [tweet_id],
        "id": tweet_id,
        "text": text,
        "author_id": author,
        "created_at": created,
        "conversation_id": reply_to[0] if reply_to else tweet_id,
        "entities": {"mentions": []},
        "source": "Twitter Web App",
    }
    for handle in re.findall(r"@(\w+)", text):
        tweet["entities"]["mentions"].append({"username": handle})
    if reply_to:
        tweet["in_reply_to_user_id"] = reply_to[1]
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to[0]}]
    return tweet


def _order(tweet_id: str) -> tuple[int, str]:
    return (len(tweet_id), tweet_id)


@dataclass
class Fault:
    """What one faulty request gets instead of the real answer.

    ``kind``: ``status`` (``status``/``headers``/``body``), ``reset`` (connection reset),
    ``timeout``, ``truncated`` (the real body cut in half), ``malformed`` (JSON of the wrong
    shape), ``repeat`` (the previous page of the same timeline again), ``skip`` (a next
    page answered with the one after it, or with an empty last page), ``stale`` (the
    timeline from the top with ``replace`` applied to tweets: old versions a cache still
    holds), ``ignore_since`` (the timeline from the top, as if no ``since_id`` was sent).
    """

    kind: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    replace: dict[str, dict[str, Any]] = field(default_factory=dict)


# A plan decides, per request, whether it fails: (request number from 1, path, query) -> Fault.
Plan = Callable[[int, str, dict[str, str]], Fault | None]


def no_faults(_n: int, _path: str, _query: dict[str, str]) -> Fault | None:
    return None


class FakeX:
    """The X API v2 endpoints the connector reads, serving recorded tweets by simulated time."""

    def __init__(self, plan: Plan = no_faults) -> None:
        self.tweets, self.users = _recorded_tweets()
        self.plan = plan
        self.now = START
        self.requests = 0
        self.injected: list[str] = []
        # tweet id -> simulated time before which an endpoint does not list it (index lag).
        self.hidden_until: dict[str, int] = {}
        self.deleted_at: dict[str, int] = {}
        self.edits: dict[str, tuple[int, dict[str, Any]]] = {}  # id -> (from, changed fields)
        self._last_page: dict[str, dict[str, Any]] = {}

    # -- what exists at self.now
    def _visible(self, tweet_id: str) -> dict[str, Any] | None:
        tweet = self.tweets[tweet_id]
        if parse_instant(tweet["created_at"].replace(".000Z", "Z")) > self.now:
            return None
        if self.hidden_until.get(tweet_id, 0) > self.now:
            return None
        if self.deleted_at.get(tweet_id, 1 << 62) <= self.now:
            return None
        edit = self.edits.get(tweet_id)
        if edit and edit[0] <= self.now:
            return {**tweet, **edit[1]}
        return tweet

    def _listing(self, path: str, query: dict[str, str]) -> list[dict[str, Any]]:
        found = [t for i in self.tweets if (t := self._visible(i)) is not None]
        if path.endswith("/mentions"):
            found = [t for t in found if t["author_id"] != BRAND_ACCOUNT]
        elif path.endswith("/tweets"):
            found = [t for t in found if t["author_id"] == BRAND_ACCOUNT]
        else:  # recent search: conversation_id:<id>
            conversation = query.get("query", "").removeprefix("conversation_id:")
            found = [t for t in found if t.get("conversation_id") == conversation]
        since = query.get("since_id")
        if since:
            found = [t for t in found if _order(t["id"]) > _order(since)]
        if until := query.get("until_id"):
            found = [t for t in found if _order(t["id"]) < _order(until)]
        return sorted(found, key=lambda t: _order(t["id"]), reverse=True)

    def _page(self, path: str, query: dict[str, str], token: str | None) -> dict[str, Any]:
        listing = self._listing(path, query)
        if token:  # the token names the last id of the previous page: stable while tweets arrive
            last = token.removeprefix("older-than-")
            listing = [t for t in listing if _order(t["id"]) < _order(last)]
        page = listing[:PAGE_SIZE]
        body: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if page:
            body["data"] = copy.deepcopy(page)
            body["meta"]["newest_id"] = page[0]["id"]
            body["meta"]["oldest_id"] = page[-1]["id"]
            authors = {t["author_id"] for t in page} | {t.get("in_reply_to_user_id") for t in page}
            body["includes"] = {
                "users": [{"id": a, "username": self.users[a]} for a in sorted(a for a in authors if a)]
            }
            parents = [
                self._visible(ref["id"])
                for t in page
                for ref in t.get("referenced_tweets", [])
                if ref["id"] in self.tweets
            ]
            if any(parents):
                body["includes"]["tweets"] = copy.deepcopy([p for p in parents if p])
        if len(listing) > PAGE_SIZE:
            body["meta"]["next_token"] = f"older-than-{page[-1]['id']}"
        return body

    def handle(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.requests += 1
        parts = urlsplit(request.url or "")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        token = query.get("pagination_token") or query.get("next_token")
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {}, json.dumps({"title": "Unauthorized", "status": 401})
        fault = self.plan(self.requests, path, query)
        timeline = path + "?" + (query.get("query") or "")
        if fault is not None:
            self.injected.append(f"{fault.kind}:{fault.status}@{iso(self.now)}{path}")
            if fault.kind == "reset":
                raise requests.ConnectionError("Connection reset by peer")
            if fault.kind == "timeout":
                raise requests.ReadTimeout("Read timed out. (read timeout=15.0)")
            if fault.kind == "status":
                body = fault.body if isinstance(fault.body, str) else json.dumps(fault.body or {})
                return fault.status, fault.headers, body
            real = self._page(path, query, token)
            if fault.kind == "truncated":
                text = json.dumps(real)
                return 200, {}, text[: len(text) // 2]
            if fault.kind == "malformed":
                return 200, {}, json.dumps(fault.body if fault.body is not None else {"data": "not a list"})
            if fault.kind == "repeat" and timeline in self._last_page:
                return 200, {}, json.dumps(self._last_page[timeline])
            if fault.kind == "skip" and token:
                after = real["meta"].get("next_token")
                skipped = self._page(path, query, after) if after else {"meta": {"result_count": 0}}
                self._last_page[timeline] = skipped
                return 200, {}, json.dumps(skipped)
            if fault.kind == "ignore_since":  # a cache that serves the whole timeline again
                body = self._page(path, {k: v for k, v in query.items() if k != "since_id"}, token)
                return 200, {}, json.dumps(body)
            if fault.kind == "stale":  # the whole timeline, from a cache holding old versions
                body = self._page(path, {k: v for k, v in query.items() if k != "since_id"}, token)
                for tweet in body.get("data", []):
                    tweet.update(fault.replace.get(tweet["id"], {}))
                return 200, {}, json.dumps(body)
        body = self._page(path, query, token)
        self._last_page[timeline] = body
        return 200, {"x-rate-limit-remaining": "100"}, json.dumps(body)

    def install(self, mock: responses.RequestsMock) -> None:
        pattern = re.compile(re.escape(BASE) + r"/(users/\d+/(mentions|tweets)|tweets/search/recent)")
        mock.add_callback(responses.GET, pattern, callback=self.handle)


# ----------------------------------------------------------------------------- AWS and handlers


class LambdaContext:
    function_name = "responsegap-poll"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:responsegap-poll"
    log_group_name = "/aws/lambda/responsegap-poll"
    log_stream_name = "2026/11/23/[$LATEST]faults"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


_loaded = itertools.count()


def load_handler(name: str) -> Any:
    """``functions/<name>/app.py`` as a fresh module (its cold start runs again)."""
    path = ROOT / "functions" / name / "app.py"
    module_name = f"faults_handler_{name}_{next(_loaded)}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def handler_environment(queue_url: str, **extra: str) -> dict[str, str]:
    """The variables template.yaml gives the functions, pointing at the moto resources."""
    return {
        "TABLE_NAME": TABLE,
        "POLL_QUEUE_URL": queue_url,
        "REPORT_QUEUE_URL": queue_url,
        "ARCHIVE_BUCKET": "responsegap-archive-faults",
        "SENDER_EMAIL": "reports@example.com",
        "RETENTION_DAYS": "90",
        "REPLY_WINDOW_HOURS": "72",
        "CREDENTIALS_PATH": "/responsegap/",
        "POWERTOOLS_SERVICE_NAME": "responsegap",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "responsegap",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "AWS_DEFAULT_REGION": REGION,
        **extra,
    }


@dataclass
class Message:
    message_id: str
    body: str
    deliver_at: int
    receives: int = 0


class Sqs:
    """Records what handlers send (and passes it on to moto), then delivers it in simulated time."""

    def __init__(self, client: Any, clock: Callable[[], int]) -> None:
        self._client = client
        self.clock = clock
        self.pending: list[Message] = []
        self.dead: list[Message] = []
        self.sent = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _add(self, body: str, delay: int) -> None:
        self.sent += 1
        self.pending.append(Message(str(uuid.uuid4()), body, self.clock() + int(delay)))

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        response = self._client.send_message(**kwargs)
        self._add(kwargs["MessageBody"], kwargs.get("DelaySeconds", 0))
        return response

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        response = self._client.send_message_batch(**kwargs)
        for entry in kwargs["Entries"]:
            self._add(entry["MessageBody"], entry.get("DelaySeconds", 0))
        return response

    def due(self, now: int) -> list[Message]:
        ready = sorted((m for m in self.pending if m.deliver_at <= now), key=lambda m: m.deliver_at)
        return ready[:10]  # the event source mapping's batch size

    def next_time(self) -> int | None:
        return min((m.deliver_at for m in self.pending), default=None)


def sqs_event(messages: list[Message]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m.message_id,
                "receiptHandle": f"rh-{m.message_id}-{m.receives}",
                "body": m.body,
                "attributes": {"ApproximateReceiveCount": str(m.receives)},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:responsegap-poll",
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


# ----------------------------------------------------------------------------- runs


@dataclass
class Outcome:
    posts: dict[str, dict[str, Any]]  # sk -> item (low-level attribute values)
    cursor: dict[str, str]
    figures: dict[str, Any]
    dead_letters: list[str]
    injected: list[str]
    polls: list[tuple[int, str]]
    requests: int

    def content(self) -> dict[str, dict[str, Any]]:
        """Stored posts without the recheck's bookkeeping (open markers and status)."""
        skip = {"open_pk", "open_sk", "status"}
        return {sk: {k: v for k, v in item.items() if k not in skip} for sk, item in self.posts.items()}


@dataclass
class Hooks:
    """Ways a test changes a run: before each poll invocation, around the store, after loading."""

    on_loaded: Callable[[Any], None] | None = None  # gets the poll handler module
    before_invoke: Callable[[int, list[Message]], None] | None = None  # may raise LambdaKilled
    redeliver_every_message: bool = False
    clock_skew: int = 0  # Lambda clock minus platform clock, in seconds
    extra_ticks: tuple[int, ...] = ()  # dispatch ticks after the morning (weeks later, say)
    observe: Callable[[int, Stack], None] | None = None  # after every invocation
    dispatch_twice: bool = False  # Scheduler retries every dispatch run (attempt 2, same slot)


def figures(posts: list[Any], as_of: int) -> dict[str, Any]:
    """The week's figures as the weekly report computes them, completeness left out (polls differ)."""
    outcomes = match(posts, [BRAND], as_of=as_of)
    period = week_period(WEEK, BRAND.timezone)
    document = report(outcomes, [BRAND], period, as_of)
    return json.loads(json.dumps(document, sort_keys=True, default=str))


class Stack:
    """moto resources and the three handlers of one run."""

    def __init__(self, monkeypatch: Any, clock: Callable[[], int], hooks: Hooks) -> None:
        import boto3

        from responsegap.connectors.http import PlatformHttp
        from responsegap.store.schema import create_table

        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table(self.dynamodb, TABLE)
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="responsegap-poll-faults")["QueueUrl"]
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=CREDENTIALS_PARAMETER, Type="SecureString", Value=json.dumps({"bearer_token": TOKEN})
        )
        for name, value in handler_environment(queue_url).items():
            monkeypatch.setenv(name, value)
        self.backoffs: list[float] = []
        self.errors: list[str] = []
        original_init = PlatformHttp.__init__

        def init(http: Any, *args: Any, **kwargs: Any) -> None:
            original_init(http, *args, **kwargs)
            http.sleep = self.backoffs.append  # jittered backoff computed as usual, not slept
            http.clock = lambda: clock() + hooks.clock_skew  # the Lambda's clock

        monkeypatch.setattr(PlatformHttp, "__init__", init)
        self.sqs = Sqs(sqs, clock)
        self.poll = load_handler("poll")
        self.dispatch = load_handler("dispatch")
        self.recheck = load_handler("recheck")
        lambda_clock = lambda: clock() + hooks.clock_skew  # noqa: E731
        for module in (self.poll, self.dispatch, self.recheck):
            deps = module.DEPS
            deps.store.clock = lambda_clock
            deps.store.sleep = lambda _s: None
            object.__setattr__(deps.poll_queue, "client", self.sqs)
            object.__setattr__(deps.poll_queue, "sleep", lambda _s: None)
        self.poll.DEPS.clock = lambda_clock
        self.store = self.poll.DEPS.store
        self.store.put_brand(BRAND)
        if hooks.on_loaded:
            hooks.on_loaded(self.poll)

    def snapshot(self) -> tuple[dict[str, dict[str, Any]], dict[str, str], list[tuple[int, str]]]:
        items = self.dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"PROFILE#{PROFILE_KEY}"}},
            ConsistentRead=True,
        )["Items"]
        posts = {i["sk"]["S"]: i for i in items if i["sk"]["S"].startswith("POST#")}
        state = self.store.load_state(PROFILE_KEY)
        polls = [
            (int(i["started_at"]["N"]), i["outcome"]["S"]) for i in items if i["sk"]["S"].startswith("POLL#")
        ]
        return posts, dict(state.cursor), polls


def run(monkeypatch: Any, platform: FakeX, hooks: Hooks | None = None, end: int = END) -> Outcome:
    """Dispatch ticks from START to ``end``, every delivery in time order, one recheck round."""
    from moto import mock_aws

    hooks = hooks or Hooks()
    now = [START]
    with mock_aws(), responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        platform.install(mock)
        stack = Stack(monkeypatch, lambda: now[0], hooks)
        ticks = sorted({*range(START, end, TICK_SECONDS), *hooks.extra_ticks})
        scheduled = [(t, "dispatch") for t in ticks] + [(RECHECK_AT, "recheck")]
        last = max(end, *hooks.extra_ticks) if hooks.extra_ticks else end
        while True:
            next_job = min(scheduled, default=None)
            next_delivery = stack.sqs.next_time()
            if next_delivery is not None and (next_job is None or next_delivery < next_job[0]):
                if next_delivery > last:
                    break
                now[0] = platform.now = max(now[0], next_delivery)
                _deliver(stack, now[0], hooks)
                if hooks.observe:
                    hooks.observe(now[0], stack)
                continue
            if next_job is None:
                break
            scheduled.remove(next_job)
            now[0] = platform.now = max(now[0], next_job[0])
            event = {"scheduled_time": iso(now[0] + hooks.clock_skew), "execution_id": f"run-{now[0]}"}
            target = stack.dispatch if next_job[1] == "dispatch" else stack.recheck
            target.lambda_handler(event, LambdaContext())
            if hooks.dispatch_twice and next_job[1] == "dispatch":
                target.lambda_handler({**event, "attempt": 2}, LambdaContext())
            if hooks.observe:
                hooks.observe(now[0], stack)
        posts, cursor, polls = stack.snapshot()
        from responsegap.store.items import item_to_post

        as_of = week_period(WEEK, BRAND.timezone).end
        result = Outcome(
            posts=posts,
            cursor=cursor,
            figures=figures([item_to_post(i) for i in posts.values()], as_of),
            dead_letters=[m.body for m in stack.sqs.dead],
            injected=list(platform.injected),
            polls=polls,
            requests=platform.requests,
        )
        # Every item the run wrote (read inside the mock), for the security tests.
        result.items = [  # type: ignore[attr-defined]
            item
            for pk in (f"PROFILE#{PROFILE_KEY}", "DIRECTORY", f"BRAND#{BRAND.brand_id}")
            for item in stack.dynamodb.query(
                TableName=TABLE,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
            )["Items"]
        ]
        result.ttl = stack.dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]  # type: ignore[attr-defined]
        result.stack = stack  # type: ignore[attr-defined]  # for tests that look further
        return result


def _deliver(stack: Stack, now: int, hooks: Hooks) -> None:
    batch = stack.sqs.due(now)
    for message in batch:
        message.receives += 1
    failed: set[str] = set()
    deliveries = [batch, batch] if hooks.redeliver_every_message else [batch]
    if hooks.before_invoke:
        try:
            hooks.before_invoke(now, batch)
        except LambdaKilled:  # died before the first record: every message comes back
            failed = {m.message_id for m in batch}
            deliveries = []
    for delivered in deliveries:
        try:
            response = stack.poll.lambda_handler(sqs_event(delivered), LambdaContext())
            failed |= {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        except LambdaKilled:
            failed |= {m.message_id for m in delivered}
        except Exception as error:  # every record failed: the batch utility raises, SQS redelivers all
            stack.errors.append(type(error).__name__)
            failed |= {m.message_id for m in delivered}
    for message in batch:
        if message.message_id not in failed:
            stack.sqs.pending.remove(message)
        elif message.receives >= MAX_RECEIVES:
            stack.sqs.pending.remove(message)
            stack.sqs.dead.append(message)
        else:
            message.deliver_at = now + VISIBILITY_SECONDS


@contextlib.contextmanager
def one_shot(target: Any, name: str, fault: Callable[..., Any], times: int = 1) -> Iterator[list[int]]:
    """Replace ``target.name`` by ``fault`` for its first ``times`` calls, then the original."""
    original = getattr(target, name)
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] <= times:
            return fault(original, *args, **kwargs)
        return original(*args, **kwargs)

    setattr(target, name, wrapper)
    try:
        yield calls
    finally:
        setattr(target, name, original)
