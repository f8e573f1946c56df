from pathlib import Path

import pytest

from safehold.synth.devices import DeviceTruth, generate_devices, standard_specs


@pytest.fixture(scope="session")
def synthetic_devices(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[DeviceTruth]]:
    """Ten synthetic devices (three serious) and their VICS hash set, made once."""
    out = tmp_path_factory.mktemp("devices")
    truths = generate_devices(out, standard_specs(3, 7), seed=2)
    return out, truths
