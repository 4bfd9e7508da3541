"""Hook specifications: what a kleroterion plugin can provide.

Three kinds of plugin exist, and a plugin may be several kinds at once:

- **assembly formats** (``register_assembly_formats``): a named format such as the
  borgerpanel, with its seat range, minimum hours, default quota features and dropout policy;
- **invitation channels** (``register_invitation_channels``): Digital Post, letter, SMS,
  e-mail …; the registry asks each enabled channel, in the region's order, whether it can
  reach a person, then renders and sends through the first that can;
- **reports** (``register_reports``): a region's own report sections or export formats;
  sections of the evaluation report come from ``evaluation_report_sections``.

The host owns the registries (``register_*`` hooks return objects; the host checks and
indexes them), in the manner of Datasette's ``register_*`` hooks. Plugins are discovered
from the ``kleroterion.plugins`` entry-point group; the built-in ones in ``plugins/`` are
registered that way too.

Plugins import these names from the public API ``kleroterion.plugin``, never from here;
docs/PLUGINS.md is the plugin author's guide.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pluggy

PROJECT = "kleroterion"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- what the hooks return --------------------------------------------------------------


@dataclass(frozen=True)
class DropoutPolicy:
    """When a withdrawing member is replaced. Before ``replace_before_session`` (1-based),
    the next suitable substitute is offered the seat; from that session on, a dropout is
    only recorded, because a newcomer could no longer catch up with the deliberation."""

    replace_before_session: int
    substitutes_per_seat: float = 1.0
    # A member whose attendance falls below this share of the planned hours is flagged.
    min_attendance_share: float = 0.8


@dataclass(frozen=True)
class AssemblyFormat:
    """A kind of assembly an organiser can choose (``register_assembly_formats``): its
    seat range and default, the least deliberation it needs, the features its quotas use
    by default and what happens when a member withdraws."""

    name: str
    title: Mapping[str, str]  # language code -> display name, e.g. {"da": "Borgerpanel"}
    min_seats: int
    max_seats: int
    default_seats: int
    min_hours: float
    min_sessions: int
    default_quota_features: Sequence[str]
    dropout: DropoutPolicy
    advisory_only: bool = True

    def check_seats(self, seats: int) -> None:
        """Refuse a seat count outside the format's range, naming the field."""
        if not self.min_seats <= seats <= self.max_seats:
            raise ValueError(f"seats: the {self.name} format takes {self.min_seats}"
                             f"–{self.max_seats} seats, got {seats}")


@dataclass(frozen=True)
class Recipient:
    """What a channel may know about an invited person: only what reaching them needs."""

    invitation_id: str
    code: str
    language: str = "da"
    digital_post_exempt: bool = False
    cpr: str | None = None
    name: str | None = None
    address_lines: Sequence[str] = ()
    postcode: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Invitation:
    """A rendered invitation, ready for a channel to send."""

    channel: str
    recipient: Recipient
    subject: str
    body: str
    signup_url: str
    attachments: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryResult:
    """What became of one invitation at a channel."""

    status: str  # "sent", "queued", "failed", "bounced"
    detail: str = ""
    # A failure worth retrying (a gateway timeout) as opposed to a final one (no address).
    retryable: bool = False


@runtime_checkable
class InvitationChannel(Protocol):
    """An invitation channel (``register_invitation_channels``); ``name`` is unique across
    the enabled plugins and is what the region file's ``channel_order`` lists."""

    name: str

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether this channel can reach the person (e.g. has a valid address for them)."""

    def render(self, recipient: Recipient, template: Mapping[str, str],
               assembly: Mapping[str, Any]) -> Invitation:
        """The invitation from the assembly's template; a bad template or a recipient this
        channel cannot reach raises ``ValueError`` naming the field."""

    def send(self, invitation: Invitation) -> DeliveryResult:
        """Send (or queue) the invitation. Safe to call again for the same invitation id:
        a channel sends at most once and returns what it did the first time."""

    def delivery_status(self, invitation_id: str) -> DeliveryResult | None:
        """What is known of an invitation sent earlier, or None if this channel never
        handled it."""


@runtime_checkable
class ErasableChannel(Protocol):
    """A channel that keeps what it sent, or is about to send, where the platform can reach
    it (an outbox of MeMo files, a batch of letters for the print shop). The registry calls
    ``erase`` when a registrant is erased and when an assembly ends, so no copy of the
    person's data outlives them in the channel's files. A channel that keeps nothing (it
    hands every message to a gateway at once) need not implement it."""

    name: str

    def erase(self, invitation_ids: Sequence[str]) -> int:
        """Delete every file this channel keeps for these invitation ids (the
        ``Recipient.invitation_id`` it was given, e.g. ``<id>`` and ``<id>.selected``); in a
        file shared with others (a batch), remove only their part. Unknown ids are ignored:
        erasure is repeated after a crash. Returns how many files were deleted or changed.
        """


@dataclass(frozen=True)
class ReportArtifact:
    """One file a report producer yields."""

    name: str  # file name, e.g. "hovedstaden-appendix.pdf"
    media_type: str
    content: bytes


@runtime_checkable
class Report(Protocol):
    """A report producer. An optional ``kind`` attribute says which data it renders:
    ``"final"`` (the default: the citizens' recommendations, from the recommendations
    service) or ``"evaluation"`` (the evaluation data with its sections, see
    ``evaluation_report_sections``)."""

    name: str

    def produce(self, assembly: Mapping[str, Any], language: str) -> Iterable[ReportArtifact]:
        """The report's files for an assembly in ``language``."""


@dataclass(frozen=True)
class TableBlock:
    """A table of a report section. Cells are already formatted text (suppressed small
    cells included); ``numeric`` marks the columns to right-align."""

    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[int] = ()


@dataclass(frozen=True)
class FigureBlock:
    """A plot, as SVG (for HTML) and PNG (for PDF and export), with its caption."""

    name: str
    caption: str
    svg: bytes
    png: bytes


@dataclass(frozen=True)
class ReportSection:
    """One section of the evaluation report. ``blocks`` are paragraphs (``str``),
    ``TableBlock`` and ``FigureBlock`` in reading order. ``public`` sections are also in the
    public report linked from the transparency page; the others only in the organisers'."""

    key: str
    title: str
    order: int
    blocks: Sequence[Any]
    public: bool = True


# --- the hooks --------------------------------------------------------------------------


class KleroterionSpecs:
    """The hooks. pluggy reads only the signatures and never calls these bodies; those
    that raise ``NotImplementedError`` do so for the type checker's sake."""

    @hookspec
    def register_assembly_formats(self) -> Sequence[AssemblyFormat]:
        """Return the assembly formats this plugin provides.

        Format names are unique across installed plugins; the host refuses a duplicate name
        and names both plugins.
        """
        raise NotImplementedError

    @hookspec
    def register_invitation_channels(self, settings: Mapping[str, Any]
                                     ) -> Sequence[InvitationChannel]:
        """Return invitation channels, configured from ``settings`` (the region file's
        ``[plugins.<plugin name>]`` table).

        A channel decides with ``can_reach`` whether it can reach a recipient (e.g. Digital
        Post cannot reach people exempt from it), renders an ``Invitation`` from the
        assembly's template with ``render``, sends it with ``send`` (which must be safe to
        call again for the same invitation id), and may report later delivery status.
        """
        raise NotImplementedError

    @hookspec
    def register_reports(self, settings: Mapping[str, Any]) -> Sequence[Report]:
        """Return report producers; each yields ``ReportArtifact`` files for an assembly.

        A region's plugin adds its own sections or formats here; the built-in reports are
        registered the same way.
        """
        raise NotImplementedError

    @hookspec
    def evaluation_report_sections(self, evaluation: Mapping[str, Any], language: str,
                                   place_names: Mapping[str, str]) -> Sequence[ReportSection]:
        """Return sections for an assembly's evaluation report in ``language``.

        ``place_names`` maps a municipality code (as text, e.g. ``"101"``) to the
        municipality's name, for features such as ``municipality_code``.

        ``evaluation`` is what the recommendations service knows (its keys are documented
        in services/recommendations/evaluation.py: representativeness, selection, process,
        experience, impact, min_cell), aggregates only, with cells below ``min_cell``
        already suppressed. Sections from all plugins are ordered by ``order``; the built-in
        ones use 10, 20, 30, 40 and 50, so a region's section can go between them.
        """
        raise NotImplementedError

    @hookspec(firstresult=True)
    def invitation_channel_order(self, region: str, recipient: Recipient) -> Sequence[str] | None:
        """Return the channel names to try for this recipient, in order, or None to leave
        the decision to the next plugin (and finally to the region file's order).

        The first plugin that answers wins: a region can override the order for, e.g.,
        people exempt from Digital Post.
        """
        raise NotImplementedError

    @hookspec
    def assembly_starting(self, assembly: Mapping[str, Any]) -> None:
        """Called when an assembly is created, e.g. to set up a region's own records."""


def _hook_names() -> list[str]:
    return [name for name in vars(KleroterionSpecs) if not name.startswith("_")]


HOOK_NAMES = _hook_names()
