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

    @property
    def store_path(self) -> Path:
        return self.home / self.store_file


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
