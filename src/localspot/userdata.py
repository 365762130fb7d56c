"""User Data Stream subscriptions on WebSocket API connections, and delivery of their events.

web-socket-api.md "User Data Stream subscription": a connection holds subscriptions, one per
account at most, numbered per connection from 0 (never reused; 65,535 over a connection's
life, at most 1,000 at a time). Each event goes out as one text frame
`{"subscriptionId": n, "event": {...}}` (web-socket-api.md "Event format").

Ordering invariants:
- Engine order. Events are rendered (render_user_data.py) when the engine has applied a command
  (`Services.observers`), so they show each order as it was then, and queued in one log in the
  engine's order. An entry is released when its command is published (`Services.subscribers`:
  after the response of the request that caused it was sent); the log is delivered from its
  head while entries are released, so a later command's events never overtake an earlier
  one's, across connections too.
- Who gets an event is fixed when the command runs: a subscription made later does not get
  earlier events; one ended later still gets them, then its `eventStreamTerminated`.
- Events a method causes outside the engine (`eventStreamTerminated` after `session.logout` or
  `userDataStream.unsubscribe`) wait until that method's response has been sent
  (`Session.after_reply`).

Delivery never blocks the engine path: each connection has a bounded queue drained by its own
task through `send_json` (which keeps responses and events in one ordered writer). A connection
whose queue overflows (a client that stops reading) is disconnected. An entry whose publication
never comes (a failed request) is released after `RELEASE_AFTER_S` so it cannot hold the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localspot import errors
from localspot.methods.render_user_data import event_stream_terminated, in_time_unit, render_batch

if TYPE_CHECKING:
    from localspot.domain.commands import Command
    from localspot.domain.events import Event
    from localspot.methods.context import Services, Session

log = logging.getLogger("localspot.userdata")

MAX_ACTIVE_SUBSCRIPTIONS = 1_000
MAX_SUBSCRIPTION_IDS = 65_535
# Frames waiting for one connection before it counts as too slow and is disconnected.
MAX_QUEUED_FRAMES = 10_000
RELEASE_AFTER_S = 5.0


@dataclass(eq=False, slots=True)
class Subscription:
    """One subscription of a connection to an account's user data."""

    subscription_id: int
    account_id: int
    api_key: str
    # Made with userDataStream.subscribe (ends with session.logout), not .subscribe.signature.
    via_session: bool


Frame = tuple["Session", int, dict[str, Any]]


@dataclass(eq=False, slots=True)
class _Entry:
    """Frames of one command (or one termination), in the delivery log."""

    frames: list[Frame]
    released: bool = False
    timer: asyncio.TimerHandle | None = None


class _Outbox:
    """One connection's bounded queue of event frames and the task that sends them."""

    def __init__(self, session: Session, limit: int) -> None:
        self.session = session
        self.limit = limit
        self.frames: deque[dict[str, Any]] = deque()
        self.task: asyncio.Task[None] | None = None
        self.closed = False

    def put(self, frame: dict[str, Any]) -> None:
        if self.closed:
            return
        if len(self.frames) >= self.limit:
            self._disconnect()
            return
        self.frames.append(frame)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        sender = self.session.sender
        while self.frames and not self.closed and sender is not None:
            try:
                await sender.send_json(self.frames.popleft())
            except Exception:  # a broken socket ends this connection's events, nothing else
                log.exception("event to connection %s failed", self.session.connection_id)
                self._disconnect()

    def _disconnect(self) -> None:
        self.closed = True
        self.frames.clear()
        sender = self.session.sender
        log.warning("connection %s is too slow for its events", self.session.connection_id)
        if sender is not None:
            self.task = asyncio.get_running_loop().create_task(sender.close())

    def stop(self) -> None:
        self.closed = True
        self.frames.clear()


class UserDataStreams:
    """Every connection's subscriptions, and the ordered log of events going to them."""

    def __init__(self, services: Services, *, max_queued_frames: int = MAX_QUEUED_FRAMES) -> None:
        self.services = services
        self.max_queued_frames = max_queued_frames
        self._by_account: dict[int, dict[Session, Subscription]] = {}
        self._outboxes: dict[Session, _Outbox] = {}
        self._log: deque[_Entry] = deque()
        self._waiting: dict[int, _Entry] = {}

    # -- subscriptions ----------------------------------------------------------------------

    def subscribe(
        self, session: Session, account_id: int, api_key: str, *, via_session: bool
    ) -> Subscription:
        """Start a subscription of `session` to `account_id`; -2035 if it already has one."""
        if session in self._by_account.get(account_id, {}):
            raise errors.SUBSCRIPTION_ACTIVE.error()
        if (
            session.next_subscription_id >= MAX_SUBSCRIPTION_IDS
            or len(session.subscriptions) >= MAX_ACTIVE_SUBSCRIPTIONS
        ):
            raise errors.MAXIMUM_SUBSCRIPTION_IDS.error()
        subscription = Subscription(session.next_subscription_id, account_id, api_key, via_session)
        session.next_subscription_id += 1
        session.subscriptions[subscription.subscription_id] = subscription
        self._by_account.setdefault(account_id, {})[session] = subscription
        if session not in self._outboxes:
            self._outboxes[session] = _Outbox(session, self.max_queued_frames)
            session.on_close.append(lambda: self.connection_closed(session))
        return subscription

    def unsubscribe(self, session: Session, subscription_id: int | None, now_ms: int) -> None:
        """End one subscription, or all of them; -2036 if there is nothing to end."""
        if subscription_id is None:
            ending = list(session.subscriptions.values())
        else:
            found = session.subscriptions.get(subscription_id)
            ending = [found] if found is not None else []
        if not ending:
            raise errors.SUBSCRIPTION_INACTIVE.error()
        self._end(session, ending, now_ms, after_reply=True)

    def end_session_subscriptions(self, session: Session, now_ms: int) -> None:
        """`session.logout`: end the subscriptions made with userDataStream.subscribe."""
        ending = [s for s in session.subscriptions.values() if s.via_session]
        if ending:
            self._end(session, ending, now_ms, after_reply=True)

    def key_revoked(self, api_key: str, now_ms: int) -> None:
        """End every subscription made with a key that has just been revoked."""
        for subscriptions in list(self._by_account.values()):
            for session, subscription in list(subscriptions.items()):
                if subscription.api_key == api_key:
                    self._end(session, [subscription], now_ms, after_reply=False)

    def connection_closed(self, session: Session) -> None:
        """Forget a closed connection's subscriptions and queue."""
        for subscription in session.subscriptions.values():
            self._forget(session, subscription)
        session.subscriptions.clear()
        outbox = self._outboxes.pop(session, None)
        if outbox is not None:
            outbox.stop()

    def _end(
        self, session: Session, ending: list[Subscription], now_ms: int, *, after_reply: bool
    ) -> None:
        for subscription in ending:
            session.subscriptions.pop(subscription.subscription_id, None)
            self._forget(session, subscription)
        event = event_stream_terminated(now_ms)
        entry = _Entry([(session, s.subscription_id, event) for s in ending], released=True)
        if after_reply:
            session.after_reply.append(lambda: self._append(entry))
        else:
            self._append(entry)

    def _forget(self, session: Session, subscription: Subscription) -> None:
        subscribers = self._by_account.get(subscription.account_id)
        if subscribers is not None and subscribers.get(session) is subscription:
            del subscribers[session]
            if not subscribers:
                del self._by_account[subscription.account_id]

    # -- engine hooks -----------------------------------------------------------------------

    def observe(self, command: Command, now_ms: int, events: list[Event]) -> None:
        """Render a command's events for their subscribers as soon as the engine applied it."""
        by_account = self._by_account
        if not by_account:
            return
        rendered = render_batch(now_ms, events, by_account.__contains__)
        if not rendered:
            return
        frames: list[Frame] = [
            (session, subscription.subscription_id, payload)
            for account_id, payload in rendered
            for session, subscription in by_account[account_id].items()
        ]
        entry = _Entry(frames)
        self._waiting[id(events)] = entry
        entry.timer = asyncio.get_running_loop().call_later(
            RELEASE_AFTER_S, self._give_up_waiting, id(events), entry
        )
        self._log.append(entry)

    def published(self, command: Command, now_ms: int, events: list[Event]) -> None:
        """A command's events are published (its request was answered): release them."""
        if self._waiting:
            self._release(id(events))

    def _release(self, key: int) -> None:
        entry = self._waiting.pop(key, None)
        if entry is None:
            return
        entry.released = True
        if entry.timer is not None:
            entry.timer.cancel()
        self._deliver()

    def _give_up_waiting(self, key: int, entry: _Entry) -> None:
        log.warning("events of a command were never published; delivering them anyway")
        if self._waiting.get(key) is entry:
            del self._waiting[key]
        entry.released = True
        self._deliver()

    def _append(self, entry: _Entry) -> None:
        self._log.append(entry)
        self._deliver()

    def _deliver(self) -> None:
        log_ = self._log
        while log_ and log_[0].released:
            for session, subscription_id, payload in log_.popleft().frames:
                outbox = self._outboxes.get(session)
                if outbox is None:
                    continue
                event = in_time_unit(payload, session.time_unit_us)
                outbox.put({"subscriptionId": subscription_id, "event": event})


def install(services: Services) -> UserDataStreams:
    """Create the user data streams of `services` and hook them to the engine's door."""
    streams = UserDataStreams(services)
    services.observers.append(streams.observe)
    services.subscribers.append(streams.published)
    services.user_streams = streams
    return streams
