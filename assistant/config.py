"""Settings: the one place configuration is read from (environment and .env)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Thresholds:
    """How sure a reading must be to become a filter. Calibrated on the planner's development sets
    (eval/planner_*_dev.jsonl and the earlier sets) and reported on the held-out ones (eval/README.md)."""

    # Embedding similarity of a question phrase to a stored value's name or label: paraphrases score
    # 0.63-0.92 ("money laundering" / aml alert 0.63), unrelated phrases stay below 0.55.
    meaning_min: float = 0.6
    meaning_min_one_word: float = 0.7  # a lone word is weaker evidence ("account" / account takeover 0.62)
    meaning_margin: float = 0.08  # a runner-up this close makes it a near-tie: noted, not used
    trigram_min: float = 0.8  # pg_trgm word similarity for an attribute value named approximately


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("risk-assistant"))


class Settings(BaseSettings):
    """Every setting of Risk Assistant; env vars are RISK_<NAME> unless noted."""

    model_config = SettingsConfigDict(env_prefix="RISK_", env_file=".env", extra="ignore", populate_by_name=True)

    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "RISK_DATABASE_URL")
    )
    # The app's own login (a role bound by row-level security: risk_app, or one granted it). Unset: the
    # app logs in as risk_app on DATABASE_URL's server, or switches to it with SET ROLE.
    app_database_url: SecretStr | None = None
    data_dir: Path = Field(default_factory=_default_data_dir)

    embedding_model: str = DEFAULT_MODEL
    embedding_device: str | None = None
    # auto: torch-bf16 on a CPU with native bfloat16 (AVX512-BF16 or AMX), else torch. torch-bf16 runs the
    # matrix products in bfloat16 (1.7-1.9x the fp32 rate on such CPUs) and its vectors' neighbours agree with
    # fp32's at recall@10 0.99+ (bench/README.md), so both store under the model's own name and mix freely.
    # onnx-int8 agrees at only 0.86-0.90, under the 0.99 bar: its vectors are stored under their own model
    # name ("<model>+onnx-int8"), and switching to it means ingesting again.
    embedding_backend: Literal["auto", "torch", "torch-bf16", "onnx-int8"] = "auto"
    # Texts per forward pass; unset, 16 for torch on a CPU (less padding than 64, and faster), else 64.
    embedding_batch_size: int | None = Field(default=None, ge=1)
    ingest_batch_size: int = 1000

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "RISK_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "RISK_OPENAI_BASE_URL")
    )
    llm_model: str = Field(
        default="gpt-4o-mini", validation_alias=AliasChoices("OPENAI_MODEL", "RISK_LLM_MODEL")
    )
    # Each request to the LLM, and each retry of it, gives up after llm_timeout_s; a failure the client may
    # retry (a timeout, a 5xx) is tried llm_max_retries more times before the offline report answers instead.
    llm_timeout_s: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=1, ge=0, le=10)
    llm_agent: bool = True  # with an LLM configured, a tool-calling agent plans; the deterministic plan is the fallback

    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    top_k: int = Field(default=20, ge=1, le=500)
    evidence_size: int = Field(default=200, ge=1, le=5000)  # events the pattern report covers
    # Filters matching up to this many events are searched exactly (recall 1.0), through the model's IVFFlat
    # index above it (once it has one: assistant/vector_index.py). At 1M events on 2 cores an exact scan
    # takes 7-13 ms over 1,000 matches and 0.15 s over 10,000; the index 10-30 ms at any selectivity.
    exact_search_below: int = Field(default=2_000, ge=0)
    # IVFFlat lists read first, and at most (iterative scan: more while too few rows pass the filters).
    # 20: on 1M clustered vectors 10 of 1,000 lists already gave recall@10 0.997-1.000 at 0.1-100%
    # selectivity (bench/retrieval.py, seed 7), but real narratives need more: on 3,000 CFPB complaints in
    # 100 lists, 10 probes gave 0.95-0.98 and 20 gave 1.000 (tests/test_vector_index.py's dev questions).
    # About 0.5-1 ms per list at 1M events.
    ivf_probes: int = Field(default=20, ge=1, le=32768)
    ivf_max_probes: int = Field(default=40, ge=1, le=32768)
    # maintenance_work_mem for building a model's IVFFlat index (its k-means sample: 1,000 lists of 384
    # dims need about 80 MB). Used only while the index is built.
    index_build_memory: str = Field(default="1GB", pattern=r"^[1-9][0-9]*(kB|MB|GB)$")
    # work_mem for a search: an exact scan joins the matching events to their vectors, and with the
    # server's 4MB the hash spills the wide vector rows to disk (1M rows: 3.3 s, against 1.0 s at 256MB).
    search_work_mem: str = Field(default="256MB", pattern=r"^[1-9][0-9]*(kB|MB|GB)$")
    # Hybrid retrieval: vector and BM25 keyword ranks fused by reciprocal rank fusion,
    # score = vector_weight / (rrf_k + vector rank) + keyword_weight / (rrf_k + keyword rank).
    retrieval_mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    # 5 and 1.0 (with BM25, issue 12): tuned on development sets only (the CFPB queries with odd ids, the demo set,
    # eval/make_beir_finance.py's dev half; keyword weights 0.25-4 x rrf_k 5-60) and reported on held-out ones
    # (eval/README.md, "Retrieval"). The best on the real CFPB text (0.409 against dense 0.337, BM25 0.343); a
    # larger keyword weight scored higher on the two templated sets, where BM25 alone beats any fusion.
    rrf_k: int = Field(default=5, ge=1)
    vector_weight: float = Field(default=1.0, ge=0)
    keyword_weight: float = Field(default=1.0, ge=0)

    meaning_min: float = Field(default=Thresholds.meaning_min, ge=0, le=1)
    meaning_min_one_word: float = Field(default=Thresholds.meaning_min_one_word, ge=0, le=1)
    meaning_margin: float = Field(default=Thresholds.meaning_margin, ge=0, le=1)
    trigram_min: float = Field(default=Thresholds.trigram_min, ge=0, le=1)

    # Connections the process may hold: each question borrows one per query while it runs, so this caps
    # how many chats, bot threads and batch workers query at once (the others wait up to pool_timeout_s).
    pool_size: int = Field(default=10, ge=1, le=200)
    pool_timeout_s: float = Field(default=30.0, gt=0)
    # shared_buffers of the embedded server, applied when this process starts it (e.g. "2GB"); unset: a
    # quarter of the memory, 128MB to 4GB (assistant/server.py). A DATABASE_URL server keeps its own.
    pg_shared_buffers: str | None = Field(default=None, pattern=r"^[1-9][0-9]*(kB|MB|GB)$")

    # Sign-in for the web UI: "login:password" pairs, comma-separated. Each login is mapped to an analyst
    # (`risk-assistant analysts add NAME --ui-login LOGIN`); unset, the UI has no sign-in and is the local analyst.
    ui_logins: SecretStr | None = None
    ui_host: str = "127.0.0.1"
    ui_port: int = 7860
    # Browser sessions the UI keeps in memory (each one's chat, plan and a copy of the page's state: about 0.4 MB
    # in Python objects, measured). Gradio keeps a session after its tab closes and would keep 10,000; the oldest
    # beyond this bound are forgotten, so a follow-up there starts a new conversation.
    ui_max_sessions: int = Field(default=200, ge=1, le=100_000)
    # Where analysts open the web UI (e.g. https://risk.example.com): Slack links cited events to <base>/?event=<id>.
    ui_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s<>|]+$")

    # The Slack bot (`risk-assistant slack`): Socket Mode needs the bot and app-level tokens, HTTP mode the
    # bot token and the signing secret (every request is verified against it).
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "RISK_SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "RISK_SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "RISK_SLACK_SIGNING_SECRET")
    )
    slack_host: str = "127.0.0.1"  # HTTP mode: put a TLS reverse proxy (or a tunnel) in front of it
    slack_port: int = Field(default=3000, ge=0, le=65535)

    def secret_values(self) -> list[str]:
        """Every configured secret (API key, Slack tokens, the database URL and its password): values that
        must never appear in a log, an error or a reply (see assistant.errors.redact)."""
        values = [v.get_secret_value() for v in self.__dict__.values() if isinstance(v, SecretStr)]
        if self.ui_logins is not None:  # each sign-in password on its own, not only the whole setting
            values += [e.partition(":")[2] for e in self.ui_logins.get_secret_value().split(",")]
        for url in (self.database_url, self.app_database_url):
            if url is not None:
                values.append(urlsplit(url.get_secret_value()).password or "")
        return [v for v in values if v]

    @property
    def pg_dir(self) -> Path:
        """Directory of the embedded PostgreSQL (server files, leases, lock)."""
        return self.data_dir / "postgres"

    @property
    def thresholds(self) -> Thresholds:
        """The planner's reading thresholds (RISK_MEANING_MIN, RISK_MEANING_MARGIN, RISK_TRIGRAM_MIN, …)."""
        return Thresholds(self.meaning_min, self.meaning_min_one_word, self.meaning_margin, self.trigram_min)

    @property
    def llm_configured(self) -> bool:
        """True when an OpenAI-compatible endpoint has been configured."""
        return self.openai_api_key is not None or self.openai_base_url is not None
