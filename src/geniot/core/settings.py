"""Application settings, read from ``GENIOT_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where geniot keeps its files and how it runs. Override with ``GENIOT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GENIOT_", extra="ignore")

    home: Path = Field(default=Path("geniot-data"), description="folder for the store, models and reports")
    store_file: str = Field(default="plant.duckdb", description="DuckDB file name inside home")
    torch_threads: int | None = Field(default=None, description="threads for torch; None = torch's default")
    token: str | None = Field(default=None, description="bearer token with scope admin (named 'admin' in the audit table)")
    tokens: str | None = Field(default=None, description="scoped tokens name:scope:secret,... (scope read, ingest or admin; secret may be sha256:<hex>)")
    tokens_file: Path | None = Field(default=None, description="file of scoped tokens, one name:scope:secret per line, # comments")
    max_body_bytes: int = Field(default=20 * 1024 * 1024, description="largest request body the service accepts")
    open_reads: bool = Field(default=True, description="reads need no token (meant for localhost)")
    mqtt_url: str | None = Field(default=None, description="broker to ingest from, e.g. mqtt://127.0.0.1:1883")
    mqtt_topics: str = Field(default="#", description="comma-separated subscription filters")
    mqtt_username: str | None = Field(default=None, description="broker user name (a user in the URL wins)")
    mqtt_password: SecretStr | None = Field(default=None, description="broker password (GENIOT_MQTT_PASSWORD; never printed)")
    mqtt_ca_file: Path | None = Field(default=None, description="CA certificate (PEM) for mqtts://; None = the system's CAs")
    mqtt_cert_file: Path | None = Field(default=None, description="client certificate (PEM) for brokers that require one")
    mqtt_key_file: Path | None = Field(default=None, description="key of the client certificate (PEM), if not in the certificate file")
    alert_prefix: str = Field(default="geniot/alerts", description="topic prefix of published anomaly events")
    syslog: str | None = Field(default=None, description="SIEM receiver for every stored event as CEF in RFC 5424 syslog: tcp://host:514 or udp://host:514")
    signal_ranges: str | None = Field(
        default=None, description='physical range per signal, JSON {"<signal or glob>": [min, max]}, e.g. {"temp_*": [-50, 400]}'
    )
    max_abs_value: float = Field(default=1e9, gt=0, description="readings of signals without a range must have |value| <= this")
    retention_raw_days: float | None = Field(
        default=None, gt=0, description="raw readings older than this many days are downsampled into aggregates; None = keep forever"
    )
    downsample_interval: str = Field(default="1h", description="bucket length of the aggregates, e.g. 15min, 1h, 1d")
    dead_letter_days: float | None = Field(default=30, gt=0, description="dead letters older than this many days are deleted; None = keep")
    dead_letter_max_rows: int | None = Field(default=100_000, ge=0, description="keep at most this many dead letters (the newest); None = no limit")
    retention_every_s: float = Field(default=3600, gt=0, description="how often the service runs retention (first run a minute after start)")
    ray_address: str | None = Field(
        default=None, description="Ray cluster for `--engine ray`, e.g. ray://head:10001 or auto; None = a local Ray"
    )
    llm_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint for `geniot ask`, e.g. http://127.0.0.1:11434/v1; None = offline router"
    )
    llm_model: str = Field(default="llama3.1", description="model name sent to the LLM endpoint")
    llm_api_key: str | None = Field(default=None, description="API key for the LLM endpoint, if it needs one")
    shift_hours: str = Field(
        default="06-14,14-22,22-06", description="early, late and night shift as HH[:MM]-HH[:MM], comma-separated (`geniot ask`)"
    )

    @property
    def store_path(self) -> Path:
        return self.home / self.store_file

    @property
    def models_dir(self) -> Path:
        return self.home / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
