"""The one table of AI model ids and prices. Nothing else in the hub hard-codes a model id or a price.

Prices are USD, as ``Decimal``: per million tokens for text/embedding models, and for image
models the token rates plus an estimated price per image. When a provider bills by prompt
length (Claude Haiku 5.5 above 100K prompt tokens, OpenAI GPT-6 above 272K input tokens),
the long-prompt rates apply to *every* token of that request, output included.

Adding a provider's models (Gemini, Replicate, ...): add ``ModelInfo`` entries to
:data:`MODELS` with a ``# checked on <date> at <doc url>`` comment above each group.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ModelKind = Literal["text", "image", "embedding"]

_PER_MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class ModelInfo:
    provider: str
    model: str
    kind: ModelKind
    # text: input/output tokens; embedding: input only (output 0); image: text input tokens and
    # image output tokens (what the Images API reports in ``usage``).
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    # Image models: an estimate for one image at the adapter's default size/quality.
    image_usd: Decimal | None = None
    context_tokens: int | None = None
    # Whether temperature/top_p may be sent. Current Claude 5.x and OpenAI reasoning models
    # answer 400 to non-default sampling parameters, so adapters leave them out.
    accepts_sampling: bool = True
    # Prompt-length pricing: above this many input tokens the whole request uses the long rates.
    long_prompt_threshold_tokens: int | None = None
    long_input_usd_per_mtok: Decimal | None = None
    long_output_usd_per_mtok: Decimal | None = None

    def token_cost_usd(self, input_tokens: int, output_tokens: int) -> Decimal:
        """What one request with this usage costs (standard tier, no batch/cache discounts)."""
        input_rate, output_rate = self.input_usd_per_mtok, self.output_usd_per_mtok
        if self.long_prompt_threshold_tokens is not None and input_tokens > self.long_prompt_threshold_tokens:
            input_rate = self.long_input_usd_per_mtok or input_rate
            output_rate = self.long_output_usd_per_mtok or output_rate
        return (Decimal(input_tokens) * input_rate + Decimal(output_tokens) * output_rate) / _PER_MTOK


def _models(*infos: ModelInfo) -> dict[str, ModelInfo]:
    return {info.model: info for info in infos}


MODELS: dict[str, ModelInfo] = _models(
    # ----- Anthropic ------------------------------------------------------------------------
    # checked on 2026-11-23 at https://platform.claude.com/docs/en/models/sonnet-5-5/overview
    # (Claude Sonnet 5.5, "Latest"; 1M context, 128K output; sampling params, assistant prefill
    # and thinking budgets answer 400: https://platform.claude.com/docs/en/models/sonnet-5-5/migration-guide)
    ModelInfo(
        provider="anthropic",
        model="claude-sonnet-5-5",
        kind="text",
        input_usd_per_mtok=Decimal("2.00"),
        output_usd_per_mtok=Decimal("10.00"),
        context_tokens=1_000_000,
        accepts_sampling=False,
    ),
    # checked on 2026-11-23 at https://platform.claude.com/docs/en/models/haiku-5-5/overview
    # (Claude Haiku 5.5, "Latest", released 2026-10-07; priced by prompt length: prompts over
    # 100,000 tokens bill input and output at the higher band; temperature/top_p/top_k and
    # prefill answer 400: https://platform.claude.com/docs/en/models/haiku-5-5/migration-guide)
    ModelInfo(
        provider="anthropic",
        model="claude-haiku-5-5",
        kind="text",
        input_usd_per_mtok=Decimal("0.10"),
        output_usd_per_mtok=Decimal("0.50"),
        context_tokens=1_000_000,
        accepts_sampling=False,
        long_prompt_threshold_tokens=100_000,
        long_input_usd_per_mtok=Decimal("0.50"),
        long_output_usd_per_mtok=Decimal("2.50"),
    ),
    # ----- OpenAI ---------------------------------------------------------------------------
    # checked on 2026-11-23 at https://developers.openai.com/api/docs/models/gpt-6.2-sol
    # and https://developers.openai.com/api/docs/pricing (GPT-6.2 Sol, released 2026-11-17,
    # OpenAI's everyday flagship; $2/$10, above 272K input tokens the request bills 2x input
    # and 1.5x output as on the GPT-6.1 Sol page). Reasoning model: no temperature/top_p.
    ModelInfo(
        provider="openai",
        model="gpt-6.2-sol",
        kind="text",
        input_usd_per_mtok=Decimal("2.00"),
        output_usd_per_mtok=Decimal("10.00"),
        context_tokens=1_050_000,
        accepts_sampling=False,
        long_prompt_threshold_tokens=272_000,
        long_input_usd_per_mtok=Decimal("4.00"),
        long_output_usd_per_mtok=Decimal("15.00"),
    ),
    # checked on 2026-11-23 at https://developers.openai.com/api/docs/models/gpt-6-luna
    # (GPT-6 Luna: the cost-sensitive, high-volume tier -- what "mini" used to be; OpenAI's
    # recommended replacement for gpt-4o-mini/gpt-4.1-mini in
    # https://developers.openai.com/api/docs/deprecations). Long-prompt rates: the same
    # 2x input / 1.5x output rule above 272K input tokens.
    ModelInfo(
        provider="openai",
        model="gpt-6-luna",
        kind="text",
        input_usd_per_mtok=Decimal("0.10"),
        output_usd_per_mtok=Decimal("0.50"),
        context_tokens=1_050_000,
        accepts_sampling=False,
        long_prompt_threshold_tokens=272_000,
        long_input_usd_per_mtok=Decimal("0.20"),
        long_output_usd_per_mtok=Decimal("0.75"),
    ),
    # checked on 2026-11-23 at https://developers.openai.com/api/docs/models/gpt-image-2.6-sunburst
    # and https://developers.openai.com/api/docs/deprecations: gpt-image-1 shut down on
    # 2026-10-23; gpt-image-1-mini, gpt-image-1.5 and chatgpt-image-latest shut down on
    # 2026-12-01 with gpt-image-2.6-flare / -sunburst as the replacements (Images 2.6, released
    # 2026-11-04). Billed by tokens: text input $5, image output $30 per 1M (image input $8, for
    # edits only). image_usd is an estimate for one 1024x1024 image at quality "medium"
    # (~1,756 output tokens, as published for the GPT Image 2 generation); the exact cost is
    # token_cost_usd(usage) with the usage the API returns.
    ModelInfo(
        provider="openai",
        model="gpt-image-2.6-flare",
        kind="image",
        input_usd_per_mtok=Decimal("5.00"),
        output_usd_per_mtok=Decimal("30.00"),
        image_usd=Decimal("0.053"),
    ),
    ModelInfo(
        provider="openai",
        model="gpt-image-2.6-sunburst",
        kind="image",
        input_usd_per_mtok=Decimal("5.00"),
        output_usd_per_mtok=Decimal("30.00"),
        image_usd=Decimal("0.053"),
    ),
    # checked on 2026-11-23 at https://developers.openai.com/api/docs/models/text-embedding-3-small
    # ($0.02 per 1M input tokens, 1536 dimensions, 8191 input tokens per text)
    ModelInfo(
        provider="openai",
        model="text-embedding-3-small",
        kind="embedding",
        input_usd_per_mtok=Decimal("0.02"),
        output_usd_per_mtok=Decimal("0"),
        context_tokens=8_191,
    ),
    # ----- Google Gemini --------------------------------------------------------------------
    # checked on 2026-11-23 at https://ai.google.dev/gemini-api/docs/pricing (Gemini 3.8 Flash,
    # GA since 2026-09-02: $0.75/$3.75 until 2026-12-31, then $1.50/$7.50 -- update then) and
    # https://ai.google.dev/gemini-api/docs/models/gemini-3.1-pro-preview (the only Pro tier is
    # a preview: $2/$12 up to 200K prompt tokens, $4/$18 above). Output includes thinking tokens.
    ModelInfo(
        provider="gemini",
        model="gemini-3.8-flash",
        kind="text",
        input_usd_per_mtok=Decimal("0.75"),
        output_usd_per_mtok=Decimal("3.75"),
        context_tokens=1_048_576,
    ),
    ModelInfo(
        provider="gemini",
        model="gemini-3.5-flash-lite",
        kind="text",
        input_usd_per_mtok=Decimal("0.30"),
        output_usd_per_mtok=Decimal("2.50"),
        context_tokens=1_048_576,
    ),
    ModelInfo(
        provider="gemini",
        model="gemini-3.1-pro-preview",
        kind="text",
        input_usd_per_mtok=Decimal("2.00"),
        output_usd_per_mtok=Decimal("12.00"),
        context_tokens=1_048_576,
        long_prompt_threshold_tokens=200_000,
        long_input_usd_per_mtok=Decimal("4.00"),
        long_output_usd_per_mtok=Decimal("18.00"),
    ),
    # ----- Replicate (Flux) -----------------------------------------------------------------
    # checked on 2026-11-23 at https://replicate.com/black-forest-labs/flux-schnell ($3 per
    # 1,000 images) and https://replicate.com/black-forest-labs/flux-pro ($0.055 per image).
    ModelInfo(
        provider="replicate",
        model="black-forest-labs/flux-schnell",
        kind="image",
        input_usd_per_mtok=Decimal("0"),
        output_usd_per_mtok=Decimal("0"),
        image_usd=Decimal("0.003"),
    ),
    ModelInfo(
        provider="replicate",
        model="black-forest-labs/flux-pro",
        kind="image",
        input_usd_per_mtok=Decimal("0"),
        output_usd_per_mtok=Decimal("0"),
        image_usd=Decimal("0.055"),
    ),
)


def model_info(model: str) -> ModelInfo | None:
    """The catalog entry for a model id, or None for a model the hub has not priced."""
    return MODELS.get(model)


def accepts_sampling(model: str) -> bool:
    """Whether temperature may be sent for this model. Unknown models: yes (the provider decides)."""
    info = MODELS.get(model)
    return True if info is None else info.accepts_sampling
