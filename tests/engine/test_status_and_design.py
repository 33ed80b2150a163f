from __future__ import annotations

import pytest

from engine.design import (
    BASELINE,
    PRESETS,
    Design,
    UnknownDesign,
    all_designs,
    design_by_name,
)
from engine.status import (
    VALID_TRANSITIONS,
    Cancel,
    Complete,
    Completed,
    Pause,
    Paused,
    Queue,
    Queued,
    Resume,
    Running,
    Start,
    is_recoverable,
    is_terminal,
    next_status,
)


def test_transitions_produce_the_documented_statuses() -> None:
    assert next_status(Start(), 5) == Running(running_at=5)
    assert next_status(Resume(), 6) == Running(running_at=6)
    assert next_status(Queue(), 7) == Queued(queued_at=7)
    assert next_status(Pause("sleep", 100.0), 8) == Paused("sleep", 100.0)
    assert next_status(Complete(), 9) == Completed(completed_at=9)
    assert next_status(Cancel("why"), 9).tag == "Cancelled"


def test_terminal_and_recoverable_statuses_follow_the_table() -> None:
    assert {s for s, t in VALID_TRANSITIONS.items() if not t} == {
        "Completed",
        "Failed",
        "Cancelled",
    }
    assert is_terminal(Completed(1)) and not is_terminal(Queued(1))
    assert is_recoverable(Running(1)) and is_recoverable(Paused("sleep", 1))
    assert not is_recoverable(Queued(1))


def test_every_preset_is_selectable_by_name() -> None:
    for name, design in PRESETS.items():
        assert design_by_name(name) is design
        assert design.label() == name


def test_unknown_design_names_the_valid_ones() -> None:
    with pytest.raises(UnknownDesign) as info:
        design_by_name("fastest")
    message = str(info.value)
    assert "'fastest'" in message
    for name in PRESETS:
        assert name in message


def test_bad_switch_value_is_refused_with_the_allowed_values() -> None:
    with pytest.raises(UnknownDesign, match="flush.*'never'.*awaited, background"):
        Design(flush="never")  # type: ignore[arg-type]


def test_each_single_change_preset_differs_from_baseline_in_one_switch() -> None:
    sets = {"seed-recommended", "seed-recommended-fixed", "seed-priority-2", "seed-priority-4"}
    singles = set(PRESETS) - {"baseline", *sets}
    for name in singles:
        assert len(PRESETS[name].changed_from_baseline()) == 1, name
    assert PRESETS["seed-recommended"].changed_from_baseline() == {
        "recovery": "lazy",
        "flush": "seed-literal",
        "state_reads": "list",
    }


def test_the_presets_that_stand_for_the_seed_flush_as_its_code_does() -> None:
    # Both of the seed's forms of change #2 call `this.#runEffect(flushEvents)`.
    for name in ("background-flush", "seed-recommended", "seed-priority-2", "seed-priority-4"):
        assert PRESETS[name].flush == "seed-literal", name
    for name in ("background-flush-fixed", "seed-recommended-fixed"):
        assert PRESETS[name].flush == "background", name


def test_design_space_is_every_combination() -> None:
    designs = list(all_designs())
    assert len(designs) == len(set(designs)) == 3 * 4 * 3 * 2 * 2 * 3
    assert BASELINE in designs


def test_a_design_can_be_named_by_its_switches() -> None:
    design = design_by_name("recovery=alarm+flush=alarm+queue_path=fast")
    assert design == Design(recovery="alarm", flush="alarm", queue_path="fast")
    assert design_by_name(design.label()) == design


@pytest.mark.parametrize("name", ["recovery=sometimes", "speed=max", "recovery=alarm+"])
def test_bad_switch_spellings_are_refused(name: str) -> None:
    with pytest.raises(UnknownDesign):
        design_by_name(name)
