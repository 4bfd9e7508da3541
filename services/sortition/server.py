"""The sortition gRPC service (proto/kleroterion/v1/sortition.proto).

Health checking (grpc.health.v1, SERVING while up, NOT_SERVING during shutdown) and server
reflection are on. A solve runs on its own thread and checks, between solver iterations,
whether the call is still active and has time left, so a deadline or a cancelled call stops
the solve instead of burning a core for nobody. SIGTERM stops accepting calls and gives
running ones ``grace_seconds`` to finish.
"""
from __future__ import annotations

import logging
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from datetime import datetime
from types import FrameType
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy.engine import Connection

from services.common import events, outbox, storage
from services.common.bus import Bus, Consumer, ConsumerWorker, bus_from_settings
from services.common.outbox import Outbox
from services.contracts.kleroterion.v1 import sortition_events_pb2 as ev
from services.contracts.kleroterion.v1 import sortition_pb2 as pb
from services.contracts.kleroterion.v1 import sortition_pb2_grpc as pb_grpc
from services.sortition import draw as drawing
from services.sortition import handlers
from services.sortition.ceremony import CeremonyAuthority, DeclaredIdentity, seed_source
from services.sortition.engine import (
    ALGORITHMS,
    Distribution,
    Instance,
    InstanceError,
    SolveCancelled,
    check_feasibility,
    compute_distribution,
)
from services.sortition.messages import (
    REQUEST_ERRORS,
    Abort,
    RequestError,
    abort,
    distribution_result,
    in_pool,
    infeasible,
    instance_from_pool,
    panel_members,
    probabilities_by_id,
    quota_ranges,
    report_message,
)
from services.sortition.models import PublicationRefused, Run, RunStore
from services.sortition.settings import Settings
from services.sortition.substitutes import draw_substitutes
from services.sortition.topup import TopUps

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SortitionService"].full_name
MAX_LOTTERY_SIZE = 100_000
PRODUCER = "sortition"
EVENT_TYPES = ("distribution_computed", "lottery_published", "panel_drawn", "substitutes_drawn")

T = TypeVar("T")


def _should_stop(context: grpc.ServicerContext) -> Callable[[], bool]:
    def check() -> bool:
        if not context.is_active():
            return True
        remaining = context.time_remaining()
        return remaining is not None and remaining <= 0
    return check


class SortitionServicer(pb_grpc.SortitionServiceServicer):
    def __init__(self, settings: Settings, store: RunStore, outbox: Outbox,
                 authority: CeremonyAuthority | None = None) -> None:
        self.settings = settings
        self.store = store
        self.outbox = outbox
        # Who may publish and enter seeds (see ``ceremony``: declared until callers are
        # authenticated).
        self.authority: CeremonyAuthority = authority or DeclaredIdentity()
        # Counted so that operators (and tests) can see that stopped calls stop solving.
        self.solves_started = 0
        self.solves_cancelled = 0
        self.solves_discarded = 0
        self._lock = threading.Lock()

    # -- helpers --------------------------------------------------------------------------
    def _enqueue(self, conn: Connection, payload: Any, assembly_id: str, event_id: str) -> None:
        """Write a result's event in the transaction that stores the result, so a stored
        result is always announced, even if the broker is away (the relay sends it later).
        The id is derived from the result: a retried call finds it already written."""
        outbox.enqueue_once(conn, events.new_event(payload, assembly_id=assembly_id,
                                                   region=self.settings.region,
                                                   producer=PRODUCER, event_id=event_id))

    def _run(self, context: grpc.ServicerContext, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except REQUEST_ERRORS as exc:
            abort(context, exc)

    def _feasible_or_abort(self, instance: Instance) -> None:
        report = check_feasibility(instance, time_limit=self.settings.feasibility_seconds)
        if not report.feasible:
            raise infeasible(instance, report)

    # -- rpcs -----------------------------------------------------------------------------
    def CheckFeasibility(self, request: pb.CheckFeasibilityRequest,
                         context: grpc.ServicerContext) -> pb.FeasibilityReport:
        def handle() -> pb.FeasibilityReport:
            instance = instance_from_pool(request.pool)
            report = check_feasibility(instance, time_limit=self.settings.feasibility_seconds)
            return report_message(instance, report)
        return self._run(context, handle)

    def ComputeDistribution(self, request: pb.ComputeDistributionRequest,
                            context: grpc.ServicerContext,
                            ) -> Iterator[pb.ComputeDistributionUpdate]:
        try:
            algorithm, instance, m, tolerance = self._compute_args(request)
            self._not_published(request.assembly_id)
            self._feasible_or_abort(instance)
        except (RequestError, Abort) as exc:
            abort(context, exc)
        started = time.monotonic()
        updates: queue.Queue[Any] = queue.Queue()
        should_stop = _should_stop(context)

        def progress(phase: str, iteration: int, min_probability: float) -> None:
            updates.put(pb.ComputeDistributionUpdate(progress=pb.SolveProgress(
                phase=phase, iteration=iteration, min_probability=min_probability,
                elapsed_seconds=time.monotonic() - started)))

        def solve() -> None:
            # The outcome is counted here, in the solving thread: when the caller cancels,
            # gRPC stops reading this generator (it may be closed at a ``yield``), so the
            # serving thread cannot be relied on to see how the solve ended.
            try:
                distribution = compute_distribution(instance, algorithm, tolerance=tolerance,
                                                    progress=progress, should_stop=should_stop)
            except SolveCancelled:
                with self._lock:
                    self.solves_cancelled += 1
                log.info("solve stopped: call cancelled or past its deadline")
                updates.put(("cancelled", None))
                return
            except BaseException as exc:  # noqa: BLE001 - handed to the serving thread
                updates.put(("error", exc))
                return
            if should_stop():
                # Finished after the caller left: counted apart so that "cancelled" means
                # the solver itself stopped early.
                with self._lock:
                    self.solves_discarded += 1
                updates.put(("late", None))
                return
            updates.put(("done", distribution))

        with self._lock:
            self.solves_started += 1
        threading.Thread(target=solve, name="sortition-solve", daemon=True).start()
        while True:
            item = updates.get()
            if isinstance(item, pb.ComputeDistributionUpdate):
                if context.is_active():
                    yield item
                continue
            kind, value = item
            if kind in ("cancelled", "late"):
                return
            if kind == "error":
                if isinstance(value, InstanceError):
                    abort(context, in_pool(value))
                raise value
            if not context.is_active():
                with self._lock:
                    self.solves_discarded += 1
                return
            break
        distribution: Distribution = value
        result = self._run(context, lambda: self._finish_run(request, instance, distribution, m,
                                                             time.monotonic() - started))
        yield pb.ComputeDistributionUpdate(result=result)

    def _compute_args(self, request: pb.ComputeDistributionRequest,
                      ) -> tuple[str, Instance, int, float]:
        if not request.assembly_id.strip():
            raise RequestError("assembly_id", "is required")
        algorithm = request.algorithm or "leximin"
        if algorithm not in ALGORITHMS:
            raise RequestError("algorithm", f"unknown algorithm {algorithm!r}; choose one of "
                                            f"{', '.join(ALGORITHMS)}")
        m = request.lottery_size or self.settings.lottery_size
        if m > MAX_LOTTERY_SIZE:
            raise RequestError("lottery_size", f"must be at most {MAX_LOTTERY_SIZE}, got {m}")
        tolerance = request.tolerance or 1e-6
        if not 0 < tolerance < 0.1:
            raise RequestError("tolerance", f"must lie in (0, 0.1), got {tolerance}")
        return algorithm, instance_from_pool(request.pool), m, tolerance

    def _finish_run(self, request: pb.ComputeDistributionRequest, instance: Instance,
                    distribution: Distribution, m: int,
                    seconds: float) -> pb.DistributionResult:
        pool_hash = drawing.pool_sha256(instance)
        # The rounding is randomised; seeding it from the pool makes a rerun reproduce the
        # same published list.
        rounded = drawing.make_lottery(instance, distribution, m, seed=int(pool_hash[:16], 16),
                                       time_budget=self.settings.rounding_seconds)
        lottery = rounded.lottery
        run_id = str(uuid.uuid4())
        probabilities = probabilities_by_id(instance, distribution)
        s = distribution.stats
        with self.store.engine.begin() as conn:
            self.store.add(
                conn=conn, run_id=run_id, assembly_id=request.assembly_id,
                algorithm=distribution.algorithm, pool_sha256=pool_hash,
                pool_json=json_format.MessageToJson(request.pool, indent=None),
                probabilities=probabilities, min_probability=s.minimum, gini=s.gini,
                lottery_json=lottery.data, lottery_sha256=lottery.sha256,
                lottery_size=lottery.size, max_rounding_deviation=rounded.max_deviation)
            self._enqueue(conn, ev.DistributionComputed(
                run_id=run_id, algorithm=distribution.algorithm, min_probability=s.minimum,
                gini=s.gini, panel_count=len(distribution.panels), pool_version=pool_hash,
                lottery_sha256=lottery.sha256, lottery_size=lottery.size,
                max_rounding_deviation=rounded.max_deviation, geometric_mean=s.geometric_mean,
                share_below_k_over_n=s.share_below_k_over_n, pool_size=len(instance.people),
                seats=instance.seats),
                request.assembly_id, str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run_id}/computed")))
        self.outbox.try_publish()
        log.info("distribution computed", extra={
            "run_id": run_id, "algorithm": distribution.algorithm,
            "pool_size": len(instance.people), "seconds": round(seconds, 3)})
        return distribution_result(run_id=run_id, instance=instance, distribution=distribution,
                                   rounded=rounded, pool_sha256=pool_hash, seconds=seconds)

    def _not_published(self, assembly_id: str) -> None:
        """A published lottery is frozen: runs computed after it could never be drawn, and
        their announcements would only compete with the published one."""
        published = self.store.published(assembly_id)
        if published is not None:
            raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                        f"assembly_id: assembly {assembly_id} published the lottery of run "
                        f"{published.run_id} at {_when(published.published_at)}; it is frozen "
                        "and no other run is computed for it")

    def _published_or_abort(self, run: Run) -> None:
        """Only the assembly's published run is drawn."""
        published = self.store.published(run.assembly_id)
        if published is None:
            raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                        f"run_id: assembly {run.assembly_id} has no published lottery; publish "
                        f"run {run.run_id} (PublishLottery) before any seed is entered")
        if published.run_id != run.run_id:
            raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                        f"run_id: run {run.run_id} is not the published lottery of assembly "
                        f"{run.assembly_id} (run {published.run_id} is); only the published "
                        "run is drawn")

    def _get_run(self, run_id: str) -> Run:
        if not run_id.strip():
            raise RequestError("run_id", "is required")
        run = self.store.get(run_id)
        if run is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"run_id: no run {run_id!r}")
        return run

    def PublishLottery(self, request: pb.PublishLotteryRequest,
                       context: grpc.ServicerContext) -> pb.PublishLotteryResponse:
        def handle() -> pb.PublishLotteryResponse:
            run = self._get_run(request.run_id)
            published_by = self.authority.publisher(context, run.assembly_id,
                                                    request.published_by)
            if run.top_up_of is not None or (run.seed is not None and run.published_at is None):
                raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                            f"run_id: run {run.run_id} is a top-up, drawn when it was computed; "
                            "only an assembly's own lottery is published")
            self._stored_lottery(run)
            try:
                with self.store.engine.begin() as conn:
                    stored = self.store.publish(run, published_by, conn=conn)
                    self._enqueue(conn, ev.LotteryPublished(
                        run_id=run.run_id, lottery_sha256=run.lottery_sha256,
                        lottery_size=run.lottery_size, pool_sha256=run.pool_sha256,
                        published_by=stored.published_by or "",
                        max_rounding_deviation=run.max_rounding_deviation),
                        run.assembly_id,
                        str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run.run_id}/published")))
            except PublicationRefused as refused:
                other = refused.published
                log.warning("publication refused", extra={
                    "run_id": run.run_id, "assembly_id": run.assembly_id,
                    "published_run_id": other.run_id, "requested_by": published_by})
                raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                            f"run_id: assembly {run.assembly_id} already published the lottery "
                            f"of run {other.run_id} at {_when(other.published_at)}; an assembly "
                            "publishes one lottery and it stays frozen") from None
            self.outbox.try_publish()
            log.info("lottery published", extra={"run_id": run.run_id,
                                                 "assembly_id": run.assembly_id,
                                                 "published_by": stored.published_by})
            return pb.PublishLotteryResponse(
                run_id=run.run_id, assembly_id=run.assembly_id,
                lottery_sha256=run.lottery_sha256, lottery_size=run.lottery_size,
                published_by=stored.published_by or "",
                published_at=_when(stored.published_at))
        return self._run(context, handle)

    def _stored_lottery(self, run: Run) -> drawing.Lottery:
        lottery = drawing.parse_lottery(run.lottery_json.encode("utf-8"))
        if lottery.sha256 != run.lottery_sha256:
            raise Abort(grpc.StatusCode.DATA_LOSS,
                        "run_id: the stored lottery no longer matches its published SHA-256")
        return lottery

    def DrawPanel(self, request: pb.DrawPanelRequest,
                  context: grpc.ServicerContext) -> pb.DrawPanelResponse:
        def handle() -> pb.DrawPanelResponse:
            run = self._get_run(request.run_id)
            seed = drawing.normalize_seed(request.seed)
            entered_by = self.authority.seed_enterer(context, run.assembly_id,
                                                     request.entered_by)
            source = seed_source(request.seed_source)
            # The seed reaches the service only now, after the publication: a run that is
            # not the assembly's published one is never drawn, so no seed can be tried
            # against a lottery before it is frozen.
            self._published_or_abort(run)
            lottery = self._stored_lottery(run)
            result = drawing.draw(lottery, seed)
            pool = json_format.Parse(run.pool_json, pb.Pool())
            with self.store.engine.begin() as conn:
                stored = self.store.record_draw(run.run_id, result.seed, result.panel_index,
                                                result.panel, entered_by=entered_by,
                                                seed_source=source, conn=conn)
                if stored.seed != result.seed:
                    log.warning("second draw refused", extra={
                        "run_id": run.run_id, "assembly_id": run.assembly_id,
                        "entered_by": entered_by})
                    raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"seed: assembly {run.assembly_id} was drawn already (run "
                                f"{run.run_id}, seed entered by {stored.seed_entered_by} at "
                                f"{_when(stored.drawn_at)}) with another seed; an assembly is "
                                "drawn once")
                self._enqueue(conn, ev.PanelDrawn(
                    run_id=run.run_id, lottery_sha256=lottery.sha256, seed=result.seed,
                    panel_index=result.panel_index, member_ids=list(result.panel),
                    members=panel_members(pool, result.panel), quotas=quota_ranges(pool),
                    seed_entered_by=stored.seed_entered_by or "",
                    seed_entered_at=_when(stored.drawn_at),
                    seed_source=stored.seed_source or ""),
                    run.assembly_id, str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run.run_id}/drawn")))
            self.outbox.try_publish()
            log.info("panel drawn", extra={"run_id": run.run_id, "panel_index": result.panel_index,
                                           "entered_by": stored.seed_entered_by})
            return pb.DrawPanelResponse(run_id=run.run_id, panel_ids=list(result.panel),
                                        panel_index=result.panel_index,
                                        lottery_sha256=lottery.sha256, lottery_size=lottery.size,
                                        seed=result.seed,
                                        entered_by=stored.seed_entered_by or "",
                                        entered_at=_when(stored.drawn_at),
                                        seed_source=stored.seed_source or "",
                                        published_at=_when(stored.published_at))
        return self._run(context, handle)

    def DrawSubstitutes(self, request: pb.DrawSubstitutesRequest,
                        context: grpc.ServicerContext) -> pb.DrawSubstitutesResponse:
        def handle() -> pb.DrawSubstitutesResponse:
            run = self._get_run(request.run_id)
            self._published_or_abort(run)
            if run.panel_ids is None:
                raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                             "run_id: the panel has not been drawn yet (call DrawPanel first)")
            pool = json_format.Parse(run.pool_json, pb.Pool())
            instance = instance_from_pool(pool)
            if request.count > len(instance.people):
                raise RequestError("count", f"must be at most the pool size {len(instance.people)}")
            position = {p.id: i for i, p in enumerate(instance.people)}
            panel = [position[pid] for pid in run.panel_ids]
            reserve = draw_substitutes(instance, panel, depth=request.depth or 1,
                                       count=request.count or None,
                                       seed_material=f"{run.lottery_sha256}\n{run.seed}")
            ids = [p.id for p in instance.people]
            sub_ids = [ids[i] for i in reserve.substitutes]
            uncovered = [ids[j] for j in reserve.uncovered]
            asked = {"substitute_ids": sub_ids, "depth": request.depth or 1,
                     "count": request.count}
            with self.store.engine.begin() as conn:
                stored = self.store.record_substitutes(run.run_id, asked, conn=conn)
                if stored.substitutes != asked:
                    before = stored.substitutes or {}
                    log.warning("second reserve list refused", extra={
                        "run_id": run.run_id, "assembly_id": run.assembly_id})
                    raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"count: the reserve list of run {run.run_id} was drawn already "
                                f"(count {before.get('count')}, depth {before.get('depth')}); "
                                "it is drawn once and stands")
                # One list per run, so one event id: a retried call announces nothing twice.
                self._enqueue(conn, ev.SubstitutesDrawn(
                    run_id=run.run_id, substitute_ids=sub_ids, lottery_sha256=run.lottery_sha256,
                    panel_index=run.panel_index or 0, uncovered_member_ids=uncovered,
                    substitutes=panel_members(pool, sub_ids), published_run_id=run.run_id,
                    published_lottery_sha256=run.lottery_sha256),
                    run.assembly_id,
                    str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run.run_id}/substitutes")))
            self.outbox.try_publish()
            response = pb.DrawSubstitutesResponse(run_id=run.run_id, substitute_ids=sub_ids,
                                                  uncovered_member_ids=uncovered,
                                                  lottery_sha256=run.lottery_sha256)
            for j, s in sorted(reserve.first_replacement.items()):
                if s is not None:
                    response.first_replacements.add(member_id=ids[j], substitute_id=ids[s])
            return response
        return self._run(context, handle)


def _when(at: datetime | None) -> str:
    return at.isoformat().replace("+00:00", "Z") if at is not None else ""


class SortitionServer:
    """The gRPC server with health, reflection and graceful stop."""

    def __init__(self, settings: Settings, *, bus: Bus | None = None,
                 store: RunStore | None = None) -> None:
        self.settings = settings
        self.bus = bus if bus is not None else bus_from_settings(settings)
        self.store = (store if store is not None
                      else RunStore(storage.make_engine(settings.database())))
        limit = settings.max_message_mb * 1024 * 1024
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=settings.max_workers,
                                       thread_name_prefix="sortition-rpc"),
            options=[("grpc.max_send_message_length", limit),
                     ("grpc.max_receive_message_length", limit)])
        # Created up front so the first event of a run never waits on topic creation.
        self.bus.ensure_event_topics(EVENT_TYPES)
        # Every event (the RPCs' results, the top-ups) goes through the run store's outbox.
        self.outbox = Outbox(self.store.engine, self.bus)
        self.servicer = SortitionServicer(settings, self.store, self.outbox)
        self.top_up = TopUps(settings, self.store, self.outbox, self.bus,
                             storage.SqlAppliedEvents(self.store.engine))
        pb_grpc.add_SortitionServiceServicer_to_server(self.servicer, self.server)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server)
        self.port = self.server.add_insecure_port(f"{settings.host}:{settings.port}")
        if self.port == 0:
            raise RuntimeError("KLERO_SORTITION_PORT: cannot listen on "
                               f"{settings.host}:{settings.port}")

    def start(self) -> SortitionServer:
        self.server.start()
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("sortition server started", extra={"port": self.port})
        return self

    def stop(self, grace: float | None = None) -> threading.Event:
        # Load balancers see NOT_SERVING first and stop sending new calls.
        self.health.enter_graceful_shutdown()
        grace = self.settings.grace_seconds if grace is None else grace
        return self.server.stop(grace)

    def wait(self) -> None:
        self.server.wait_for_termination()

    def consumers(self) -> list[Consumer]:
        """The bus consumers that run beside the gRPC server (top-up requests)."""
        return [group.consumer(self.top_up) for group in handlers.GROUPS]


def serve(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT, then stop gracefully: the gRPC server, and beside it the
    consumer of top-up requests and the outbox relay of its answers."""
    server = SortitionServer(settings).start()
    worker = ConsumerWorker(server.consumers()).start()
    server.outbox.try_publish()  # what a crash or a broker outage left unpublished
    server.outbox.start_relay()
    done = threading.Event()

    def _terminate(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name,
                                    "grace_seconds": settings.grace_seconds})
        server.stop().wait()
        done.set()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    print(f"sortition gRPC server listening on {settings.host}:{server.port}", flush=True)
    server.wait()
    done.wait(timeout=settings.grace_seconds + 5)
    worker.stop()  # after its current batch, committed
    server.outbox.stop_relay()
    try:
        server.bus.close()
    except Exception:  # noqa: BLE001 - closing on the way out; nothing left to protect
        pass
    return 0
