"""Application settings, read from ``GENIOT_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where geniot keeps its files and how it runs. Override with ``GENIOT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GENIOT_", extra="ignore")

    home: Path = Field(default=Path("geniot-data"), description="folder for the store, models and reports")
    store_file: str = Field(default="plant.duckdb", description="DuckDB file name inside home")
    torch_threads: int | None = Field(default=None, description="threads for torch; None = torch's default")
    token: str | None = Field(default=None, description="bearer token that writes to the service need")
    max_body_bytes: int = Field(default=20 * 1024 * 1024, description="largest request body the service accepts")
    open_reads: bool = Field(default=True, description="reads need no token (meant for localhost)")
    mqtt_url: str | None = Field(default=None, description="broker to ingest from, e.g. mqtt://127.0.0.1:1883")
    mqtt_topics: str = Field(default="#", description="comma-separated subscription filters")
    alert_prefix: str = Field(default="geniot/alerts", description="topic prefix of published anomaly events")
    ray_address: str | None = Field(
        default=None, description="Ray cluster for `--engine ray`, e.g. ray://head:10001 or auto; None = a local Ray"
    )
    llm_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint for `geniot ask`, e.g. http://127.0.0.1:11434/v1; None = offline router"
    )
    llm_model: str = Field(default="llama3.1", description="model name sent to the LLM endpoint")
    llm_api_key: str | None = Field(default=None, description="API key for the LLM endpoint, if it needs one")

    @property
    def store_path(self) -> Path:
        return self.home / self.store_file

    @property
    def models_dir(self) -> Path:
        return self.home / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
