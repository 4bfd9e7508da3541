import dataclasses

import pytest

from services.common.settings import ServiceSettings, SettingsError, setting


@dataclasses.dataclass(frozen=True)
class RegistrySettings(ServiceSettings):
    service: str = "registry"
    invitation_batch: int = setting(500, "Invitations per batch.", minimum=1)


def test_defaults_run_embedded():
    s = RegistrySettings.from_env({})
    assert s.bus == "inprocess"
    assert s.database() == "sqlite:///.kleroterion/registry.sqlite3"
    assert s.invitation_batch == 500


def test_values_come_from_the_environment():
    s = RegistrySettings.from_env({"KLERO_BUS": "kafka",
                                   "KLERO_KAFKA_BOOTSTRAP": "k1:9092, k2:9092",
                                   "KLERO_REGISTRY_INVITATION_BATCH": "50",
                                   "KLERO_REGISTRY_DATABASE_URL": "postgresql+psycopg://db/x"})
    assert s.kafka_bootstrap == ("k1:9092", "k2:9092")
    assert s.invitation_batch == 50
    assert s.database() == "postgresql+psycopg://db/x"


@pytest.mark.parametrize("variable,value,reason", [
    ("KLERO_REGISTRY_INVITATION_BATCH", "many", "whole number"),
    ("KLERO_REGISTRY_INVITATION_BATCH", "0", "at least 1"),
    ("KLERO_BUS", "rabbitmq", "one of inprocess, kafka"),
    ("KLERO_LOG_LEVEL", "LOUD", "one of"),
])
def test_bad_values_name_the_variable(variable, value, reason):
    with pytest.raises(SettingsError) as err:
        RegistrySettings.from_env({variable: value})
    assert err.value.variable == variable
    assert reason in str(err.value) and str(err.value).startswith(variable)


def test_documented_masks_secrets():
    s = RegistrySettings.from_env({"KLERO_KAFKA_SASL_PASSWORD": "hunter2"})
    rows = {var: (value, doc) for var, value, doc in s.documented()}
    assert rows["KLERO_KAFKA_SASL_PASSWORD"][0] == "***"
    assert all(doc for _, doc in rows.values())
