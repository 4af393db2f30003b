"""Writes the JSON Schemas of gandoctor's JSON outputs (draft 2020-12):

- ``report.schema.json``: ``gandoctor probe --json`` and ``gandoctor merge --json``
  (``gandoctor.report/1``, built by ``gandoctor.report.model.Report.to_dict``);
- ``preflight.schema.json``: ``gandoctor preflight --json`` (``gandoctor.preflight/1``,
  ``gandoctor.preflight.result.PreflightReport.to_dict``).

The schemas are the contract of those outputs: every object lists the keys the code always
writes as ``required`` and refuses others (``additionalProperties: false``), every property
says what its value means and in which unit, and every float the code can make NaN or
infinite allows ``null`` (the JSON is strict: NaN and infinities are written as null).
The tests validate every report the test suite makes against them (tests/conftest.py) and
check that the files here are what this script writes (tests/test_schema.py).

Edit this file, not the JSON, and run it from the repository root:

    python schema/build.py

The enumerations (verdicts, severities, finding codes, ...) are taken from the package, so
they cannot drift from it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from gandoctor.enums import FindingCode, LatentDistribution, Severity, Verdict
from gandoctor.plans import PLAN_CHOICES
from gandoctor.preflight.result import SCHEMA as PREFLIGHT_SCHEMA
from gandoctor.preflight.result import Status
from gandoctor.report.model import SCHEMA as REPORT_SCHEMA
from gandoctor.results.repeats import FIGURES as REPEAT_FIGURES
from gandoctor.runtime.precision import PRECISIONS

HERE = Path(__file__).resolve().parent
REPORT_FILE = HERE / "report.schema.json"
PREFLIGHT_FILE = HERE / "preflight.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

Schema = dict[str, Any]

# --- building blocks ---------------------------------------------------------------------

NULL_WHEN = "null where the figure is NaN or infinite"


def number(description: str) -> Schema:
    """A float that is always finite (settings, thresholds, shares of finite counts)."""
    return {"type": "number", "description": description}


def figure(description: str) -> Schema:
    """A measured float: null where it came out NaN or infinite (a broken generator, a
    gradient that fell to 0, an undefined ratio)."""
    return {"type": ["number", "null"], "description": f"{description}; {NULL_WHEN}."}


def optional_number(description: str) -> Schema:
    return {"type": ["number", "null"], "description": description}


def integer(description: str) -> Schema:
    return {"type": "integer", "description": description}


def optional_integer(description: str) -> Schema:
    return {"type": ["integer", "null"], "description": description}


def string(description: str) -> Schema:
    return {"type": "string", "description": description}


def optional_string(description: str) -> Schema:
    return {"type": ["string", "null"], "description": description}


def boolean(description: str) -> Schema:
    return {"type": "boolean", "description": description}


def ref(name: str, description: str) -> Schema:
    return {"$ref": f"#/$defs/{name}", "description": description}


def optional_ref(name: str, description: str) -> Schema:
    return {"anyOf": [{"$ref": f"#/$defs/{name}"}, {"type": "null"}], "description": description}


def array(items: Schema, description: str, **extra: Any) -> Schema:
    return {"type": "array", "items": items, "description": description, **extra}


def pair(items: Schema, description: str) -> Schema:
    """A two-element array: (low, high), (beta1, beta2), ..."""
    return array(items, description, minItems=2, maxItems=2)


def series(description: str) -> Schema:
    """One measured float per measurement step."""
    text = f"{description}; one value per entry of the series' step, {NULL_WHEN}."
    return array({"type": ["number", "null"]}, text)


def obj(
    description: str,
    properties: dict[str, Schema],
    optional: tuple[str, ...] = (),
    **extra: Any,
) -> Schema:
    """A closed object: every property but ``optional`` ones is required."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": [key for key in properties if key not in optional],
        "additionalProperties": False,
        **extra,
    }


def open_object(description: str, values: Schema | bool = True) -> Schema:
    """An object whose keys are open (kwargs, details); ``values``: what each value is."""
    return {"type": "object", "description": description, "additionalProperties": values}


def enum(values: Any, description: str) -> Schema:
    return {"type": "string", "enum": [str(v) for v in values], "description": description}


UNIT_INTERVAL_NOTE = "a share, 0 to 1"
ACCURACY = (
    "held-out balanced accuracy (the mean of the real and the fake hit rates at D = 0.5, 0 to "
    "1: 0.5 is chance, 1 tells every sample apart)"
)
DECADES = "decades = log10 of a ratio of two gradient norms"

# --- the vocabulary ----------------------------------------------------------------------

CODE_TEXT = {
    FindingCode.SATURATION: "a fresh D separates real from generated (Figure 1 of Arjovsky "
    "& Bottou 2017)",
    FindingCode.VANISHING: "the minimax gradient vanishes (Figure 2)",
    FindingCode.EXPLODING: "the -log D gradient grows after the minimax peak, or is noisy "
    "(Figure 3)",
    FindingCode.COLLAPSE: "too little sample diversity: near-duplicates, low diversity or "
    "low coverage",
    FindingCode.BROKEN: "NaN/Inf weights, outputs, losses or gradients; samples that ignore "
    "z; no gradient reaches the parameters",
    FindingCode.MODE_MISMATCH: "train- and eval-mode outputs differ (info), or eval mode "
    "alone is broken (fail)",
    FindingCode.RANGE_MISMATCH: "generated values and the real data disagree on the value range",
    FindingCode.OVERFITTING: "the probe D memorises its training reals (r_t and r_v high)",
    FindingCode.D_DOMINANT: "the checkpoint's own D has all but won: its minimax gradient "
    "lies decades below the -log D one",
    FindingCode.D_OVERFIT: "the checkpoint's own D memorised the GAN's training reals "
    "(needs --val-data)",
    FindingCode.PENALTY_INEFFECTIVE: "the R1 penalty the run claims cannot have acted on its own D",
    FindingCode.D_LOSS_COLLAPSE: "the run's own log: its D loss fell toward 0 with r_t near 1 "
    "(and ADA's p at its ceiling where ADA ran)",
    FindingCode.AUGMENT_CEILING: "the run's own log: ADA's augmentation probability p held "
    "at its ceiling",
    FindingCode.FID_REGRESSED: "the run's own log: its FID rose over several evaluations in a row",
}


def _code_pattern() -> str:
    codes = "|".join(sorted(str(c) for c in FindingCode))
    severities = "|".join(str(s) for s in Severity)
    entry = f"(?:(?:{codes})(?::(?:{severities}))?|{severities}|borderline)"
    return f"^(?:none|{entry}(?:,{entry})*)$"


def vocabulary() -> dict[str, Schema]:
    missing = sorted(set(map(str, FindingCode)) - set(map(str, CODE_TEXT)))
    if missing:
        raise SystemExit(f"schema/build.py: describe the finding codes {missing} in CODE_TEXT")
    codes = "; ".join(f"{c}: {text}" for c, text in CODE_TEXT.items())
    return {
        "verdict": enum(
            Verdict,
            "healthy < warning < failing < broken: broken with any broken finding, else "
            "failing with any fail, else warning with any warn, else healthy.",
        ),
        "severity": enum(
            Severity,
            "info < warn < fail: a note, a warning, a failure (the default gate, --fail-on "
            "fail, fails on fail).",
        ),
        "finding_code": enum(FindingCode, f"What a finding is about. {codes}."),
        "latent_distribution": enum(
            LatentDistribution,
            "How z is drawn: normal = standard normal, uniform = uniform on [-1, 1].",
        ),
        "range": pair(
            {"type": "number"},
            "A value range [low, high], in the generator's output units.",
        ),
        "spread": obj(
            "A mean over samples (or latent batches) with its standard deviation.",
            {
                "mean": figure("the mean"),
                "std": figure("its standard deviation, in the mean's unit"),
            },
        ),
    }


# --- the probe's records -----------------------------------------------------------------


def thresholds() -> Schema:
    t = {
        "saturation_accuracy": number(
            "Held-out balanced accuracy (0-1) from which, with mean D(G(z)) at or below "
            "saturation_fake_prob, D counts as saturated (saturation fail)."
        ),
        "saturation_fake_prob": number(
            "Mean D(G(z)), the probability of real D gives the fakes (0-1), at or below "
            "which D is saturated on fakes: the minimax gradient carries this factor."
        ),
        "separable_accuracy": number(
            "Final held-out accuracy (0-1) that earns a saturation warning without "
            "saturation; also the own D's accuracy from which d_dominant can hold."
        ),
        "c2st_alpha": number(
            "Significance level: a saturation warning needs the held-out accuracy to beat "
            "chance in the classifier two-sample test at p below it."
        ),
        "vanishing_fail_decades": number(
            "Decades of minimax gradient lost (log10 peak / end) from which vanishing fails "
            "(2 = a 100-fold weaker signal)."
        ),
        "vanishing_warn_decades": number(
            "Decades of minimax gradient lost from which vanishing warns (1 = 10-fold); "
            "also where a remedy run's or the critic's gradient counts as vanishing."
        ),
        "exploding_fail_decades": number(
            "Decades the -log D gradient grew after the minimax peak (log10 end / value at "
            "the peak) from which exploding fails (0.3 = 2-fold)."
        ),
        "exploding_warn_decades": number(
            "Decades of -log D growth after the minimax peak from which exploding warns "
            "(0.15 = 1.4-fold)."
        ),
        "growth_needs_decline_decades": number(
            "Decades the minimax gradient must fall below its peak for the -log D growth "
            "after the peak to count (0.3 = a factor 2)."
        ),
        "noisy_cv": number(
            "Coefficient of variation (std / mean) of the -log D gradient between "
            "measurements of the run's second half, around its log-linear trend, from "
            "which exploding warns as noisy."
        ),
        "ignores_z_ratio": number(
            "Spread of generated samples across z, as a share of the real data's spread, "
            "below which the generator ignores z (broken)."
        ),
        "range_overlap": number(
            "Share (0-1) of the real data's value span that generated values must overlap "
            "(range_mismatch below it); preflight: the share of the data range the final "
            "layer's bound must cover."
        ),
        "range_overshoot": number(
            "Share of the output range's width by which generated values may go beyond it "
            "before range_mismatch warns."
        ),
        "mode_mismatch_ratio": number(
            "Relative difference ||G_train(z) - G_eval(z)|| / ||G_eval(z)|| above which "
            "mode_mismatch notes that the two modes differ."
        ),
        "regression_saturation_share": number(
            "--baseline: share of the baseline's steps to saturation by which D may "
            "saturate sooner before it is a regression."
        ),
        "regression_decades": number(
            "--baseline: decades of minimax gradient lost beyond the baseline's from which "
            "it is a regression."
        ),
        "regression_growth_decades": number(
            "--baseline: decades of -log D growth after the minimax peak beyond the "
            "baseline's from which it is a regression."
        ),
        "collapse_fail_duplicates": number(
            "Near-duplicate ratio (the generated pairs' near-duplicate rate over the real "
            "pairs') from which collapse fails."
        ),
        "collapse_warn_duplicates": number("Near-duplicate ratio from which collapse warns."),
        "collapse_warn_diversity": number(
            "Diversity ratio (mean pairwise distance among generated samples over that "
            "among real ones) below which collapse warns."
        ),
        "collapse_warn_coverage": number(
            "Coverage (Naeem et al. 2020, 0-1) below which collapse warns, where precision "
            "is at least collapse_coverage_precision (dropped modes)."
        ),
        "collapse_coverage_precision": number(
            "Precision (0-1) from which low coverage counts as dropped modes rather than "
            "poor samples."
        ),
        "overfit_rt": number(
            "r_t = E[sign(D(x_train))] (-1 to 1) from which, with r_v, a D counts as "
            "memorising (the overfitting note; d_overfit)."
        ),
        "overfit_rv": number(
            "r_v from which, with r_t, a D counts as memorising: unseen reals sit this far "
            "of the way from training reals to fakes."
        ),
        "own_d_dominant_decades": number(
            "Decades between the -log D and the minimax gradient through the checkpoint's "
            "own D (log10 of their ratio) from which d_dominant warns."
        ),
        "own_d_overfit_auc": number(
            "P(D(training real) > D(unseen real)) of the own D (0.5: no gap) from which "
            "d_overfit warns."
        ),
        "own_d_penalty_loss": number(
            "gamma / 2 * R1 of the own D, in nats (the loss's unit), from which "
            "penalty_ineffective warns: ln 4, a constant D's whole loss."
        ),
        "layer_spread_warn_decades": number(
            "preflight: decades between the largest and the smallest per-weight (RMS) "
            "gradient of the generator's layers from which layer balance warns."
        ),
        "layer_spread_fail_decades": number(
            "preflight: the same spread from which layer balance fails."
        ),
        "logged_d_loss_collapse": number(
            "The run's logged D loss (NVlabs Loss/D/loss, nats per sample; chance is 2 ln 2 = "
            "1.386) at or below which it has fallen toward 0 (d_loss_collapse): 2 ln 1.1."
        ),
        "logged_rt_collapse": number(
            "The logged r_t = E[sign(D(x_real))] (-1 to 1) from which, with that D loss, the "
            "run's D is sure of its reals."
        ),
        "logged_augment_ceiling": number(
            "ADA's logged augmentation probability p (0-1) from which it is at its ceiling."
        ),
        "logged_augment_ceiling_ticks": number(
            "Consecutive logged ticks up to the snapshot with p at its ceiling from which p "
            "is pinned there (augment_ceiling)."
        ),
        "logged_fid_rises": number(
            "Consecutive rises of the logged FID, evaluation after evaluation up to the "
            "snapshot, from which FID has regressed (fid_regressed)."
        ),
        "logged_fid_rise": number(
            "Relative rise of the logged FID over those evaluations (last / first - 1) from "
            "which it counts."
        ),
    }
    return obj(
        "Where a measurement becomes a finding (gandoctor.config.Thresholds; --threshold "
        "NAME=VALUE). All finite and >= 0.",
        t,
    )


def settings() -> Schema:
    return obj(
        "The probe's settings (gandoctor.config.ProbeConfig), the device and precision resolved.",
        {
            "steps": integer("Maximum D iterations of the probe (--steps)."),
            "batch_size": integer("Real and fake samples per D step, each (--batch-size)."),
            "lr": number("The probe D's Adam learning rate."),
            "betas": pair({"type": "number"}, "The probe D's Adam betas (beta1, beta2)."),
            "grad_batches": integer(
                "K: fixed latent batches per gradient measurement, for a mean and a spread."
            ),
            "heldout_min": integer("Fewest real samples held out from D's training."),
            "heldout_fraction": number("Share of the real data held out (0-1)."),
            "disc_width": optional_integer(
                "Base channel width of the probe D; null = sized to the resolution."
            ),
            "seed": integer("Seed of the split, the latents and D's initial weights."),
            "device": string("Torch device of the probe: cpu, cuda, cuda:1, mps ..."),
            "precision": enum(
                PRECISIONS,
                "fp32, or bf16 autocast of D's steps and the measurements' passes; auto "
                "(bf16 where the device has it in hardware) is resolved in a report.",
            ),
            "train_mode": boolean("The generator ran in train mode (BatchNorm batch statistics)."),
            "early_stop": boolean("The probe may stop once its verdict cannot improve."),
            "measure_growth": number(
                "Measurement steps grow geometrically by this factor (> 1) ..."
            ),
            "measure_max_interval": integer("... until they are this many steps apart."),
            "settle_steps": integer(
                "Early stop: steps saturation must have held before the run may end."
            ),
            "thresholds": ref("thresholds", "The thresholds of the findings."),
            "instance_noise": number(
                "Standard deviation of Gaussian noise added to D's real and fake inputs, in "
                "the generator's output units; 0 = none."
            ),
            "per_layer": boolean("Per-layer gradient norms were recorded (--layers)."),
            "own_discriminator": boolean(
                "The checkpoint's own D was measured where it holds one (--own-d)."
            ),
            "max_seconds": optional_number(
                "Time budget of the whole run in seconds (--max-seconds); null = none."
            ),
            "plan": enum(
                PLAN_CHOICES,
                "--plan: auto plans to the time budget, full runs the whole protocol, a "
                "number runs that level of results.plan.",
            ),
            "cpu_budget": optional_number(
                "Seconds a probe on a CPU plans to fit without --max-seconds; null = none. "
                "It only plans, it never cuts a run short."
            ),
            "threads": optional_integer(
                "CPU threads of torch's operations during the probe; null = auto (unresolved)."
            ),
        },
    )


def generator(extra: dict[str, Schema] | None = None) -> Schema:
    return obj(
        "What was detected about the checkpoint (loading.GeneratorInfo) and how the probe "
        "feeds the generator.",
        {
            "checkpoint": string("The checkpoint's path as given, or the module's name."),
            "format": string(
                "How the file was read: safetensors, hf-folder, torch, torchscript, "
                "torch.export, pickled-module, stylegan-snapshot; module for an in-memory "
                "nn.Module; untrained for preflight's --arch without a checkpoint."
            ),
            "architecture": string(
                "A registry name (dcgan), the --arch string, or the class the file records."
            ),
            "arch_source": string(
                "Where the architecture came from: --arch, metadata, recognised, sidecar "
                "config: FILE, folder config: FILE, file, pickled module, module ..."
            ),
            "arch_kwargs": open_object("The constructor's keyword arguments actually used."),
            "latent_shape": array(
                {"type": "integer"}, "One latent vector's shape, without the batch axis."
            ),
            "latent_source": enum(
                ("option", "architecture", "attribute", "first layer"),
                "Where the latent shape came from: --latent-shape, the architecture, an "
                "nz/z_dim/latent_dim attribute, or the first layer's input.",
            ),
            "output_shape": array(
                {"type": "integer"},
                "One generated sample's shape, without the batch axis: (C, H, W) or (D,).",
            ),
            "output_range": ref(
                "range", "The generator's output range, which the real data are scaled to."
            ),
            "range_source": enum(
                ("option", "architecture", "observed", "default"),
                "Where the output range came from: --output-range, the architecture (its "
                "final Tanh/Sigmoid), outputs observed at load, or the default [-1, 1] "
                "where no output was finite.",
            ),
            "parameters": integer("Parameter elements of the generator (tied ones once)."),
            "key": optional_string(
                "The entry of a nested checkpoint that held the generator (models.netG); "
                "null = the file's top level."
            ),
            "stripped_prefix": optional_string(
                "What was removed from the front of every state-dict key (module.); null = nothing."
            ),
            "num_classes": optional_integer(
                "Classes the probe draws labels from for a conditional generator; null = "
                "unconditional."
            ),
            "details": open_object(
                "What the file says about the generator and its training (a StyleGAN "
                "snapshot's z_dim, w_dim, mapping layers, ADA's augment p, "
                "training_set_kwargs, ...)."
            ),
            "latent_distribution": ref("latent_distribution", "How the probe draws z."),
            **(extra or {}),
        },
    )


def data() -> Schema:
    return obj(
        "The real data as read for this generator (data.common.RealData.describe).",
        {
            "source": string("The data path as given, or tensor for an in-memory array."),
            "kind": enum(
                ("image folder", "zip", "lmdb", "npy", "npz", "tensor"),
                "How the data were read: a folder of images, a dataset ZIP (NVlabs' "
                "dataset_tool), an LMDB (rosinality's prepare_data), a .npy or .npz array, or "
                "an in-memory tensor or array.",
            ),
            "found": integer("Candidate image files or array rows found."),
            "used": integer("Samples loaded: after the --max-images cap, minus unreadable files."),
            "skipped": integer("Files that could not be decoded."),
            "conversion": string(
                "What was done to the data to fit the generator, in words (mode, size, "
                "crop, value scaling); empty where nothing was."
            ),
            "shape": array(
                {"type": "integer"}, "Shape of the loaded samples: (N, C, H, W) or (N, D)."
            ),
            "labels": string(
                "Where the class labels came from and how many classes they index, in "
                "words; only where the data carry labels."
            ),
            "label_counts": array(
                {"type": "integer"},
                "Samples of each class, by class index; only where the data carry labels.",
            ),
        },
        optional=("labels", "label_counts"),
        dependentRequired={"labels": ["label_counts"], "label_counts": ["labels"]},
    )


def plan() -> Schema:
    return obj(
        "How the protocol was cut down to fit the probe's time (results.plan.ProbePlan); "
        "level 0 is the full protocol.",
        {
            "level": integer(
                "The plan's level: 0 = the full protocol, higher = more levers pulled "
                "(plans.PLAN_LEVELS)."
            ),
            "measure_growth": number("Measurement steps grow by this factor ..."),
            "measure_max_interval": integer("... up to this many steps apart."),
            "grad_batches": integer("Latent batches each gradient measurement is over."),
            "grad_batch_size": integer("Samples of each of those latent batches."),
            "fake_reuse": integer(
                "How many D steps each generated sample serves on average (1 = a fresh "
                "batch every step)."
            ),
            "predicted_seconds": figure(
                "The probe loop's predicted wall time at this level, in seconds; null when "
                "not predicted"
            ),
            "full_seconds": figure(
                "The same prediction for the full protocol, in seconds; null when not predicted"
            ),
            "budget_seconds": optional_number(
                "Seconds the plan had to fit (what --max-seconds left, or the CPU budget); "
                "null = no budget."
            ),
            "reason": string("Why this level was chosen, in words."),
            "priced": boolean(
                "True: the predictions are the protocol's counted work (FLOPs and operator "
                "calls) priced at the reference CPU, as the default CPU budget plans, so the "
                "plan is the same on every machine; false: times measured on this machine "
                "(--max-seconds)."
            ),
        },
    )


def probe_block() -> Schema:
    return obj(
        "How the probe ran.",
        {
            "steps_run": integer("D steps run (0 when the generator was broken at once)."),
            "complete": boolean(
                "False when the probe was cut short (time budget, interrupt) before its "
                "verdict settled: its findings may change with more steps."
            ),
            "stopped_early": boolean("The probe stopped before --steps."),
            "stop_reason": string("Why and when the probe stopped, in words."),
            "seconds": number("Wall time of the probe in seconds."),
            "train_samples": integer("Real samples D trained on."),
            "heldout_samples": integer("Real samples held out from D's training."),
            "heldout_latents": integer(
                "Fixed held-out latents (grad_batches x batch_size) every figure is measured on."
            ),
            "plan": optional_ref(
                "plan", "The probe's plan; null when it stopped before it was planned."
            ),
        },
    )


def health() -> Schema:
    return obj(
        "Checks on the generator itself, made before and during the probe "
        "(results.series.GeneratorHealth).",
        {
            "nonfinite_parameters": integer(
                "NaN/Inf elements among the generator's parameters and buffers."
            ),
            "nonfinite_output_share": number(
                "Share of output elements that are NaN/Inf over the held-out latents (0-1)."
            ),
            "output_spread": figure(
                "Mean per-feature standard deviation of generated samples across the "
                "held-out latents, in output units"
            ),
            "real_spread": figure(
                "The same for the held-out real samples: the yardstick of output_spread"
            ),
            "train_eval_difference": figure(
                "||G_train(z) - G_eval(z)|| / ||G_eval(z)|| for the same z; null also "
                "where the two modes cannot differ (no BatchNorm, dropout, instance norm)"
            ),
            "output_min": figure("Smallest generated value over the held-out latents"),
            "output_max": figure("Largest generated value over the held-out latents"),
            "real_min": figure("Smallest held-out real value, after scaling to the output range"),
            "real_max": figure("Largest held-out real value, after scaling"),
            "output_range": optional_ref(
                "range", "The range the real data were scaled to; null when unknown."
            ),
            "probed_in_train_mode": boolean("The generator was probed in train mode."),
            "other_mode_nonfinite_share": figure(
                "Share of NaN/Inf values of the first latent batch in the other mode (train "
                "mode when probed in eval); null also where the modes cannot differ"
            ),
            "other_mode_spread": figure(
                "Spread of that batch in the other mode, as output_spread; null also where "
                "the modes cannot differ"
            ),
            "extreme_uncertainty": figure(
                "How far the extremes move with the samples drawn, in output units: the "
                "uncertainty of range_mismatch's figures"
            ),
            "nonfinite_measurement_step": optional_integer(
                "First step at which a loss or gradient norm was NaN/Inf; null if none."
            ),
            "spread_ratio": figure(
                "output_spread / real_spread: how much generated samples vary across z "
                "against the real data (below ignores_z_ratio: ignores z)"
            ),
        },
    )


def summary() -> Schema:
    final = (
        "median over the end window (the measurements of the last tenth of the steps, at "
        "least three)"
    )
    return obj(
        "Headline figures of one probe, read off its series (judge.summarise.summarize); "
        "all on held-out reals and the held-out latents.",
        {
            "steps_run": integer("D steps run: the last measured step."),
            "measurements": integer("Measurement steps in the series."),
            "steps_to_saturation": optional_integer(
                "First measured step from which held-out accuracy >= saturation_accuracy "
                "and mean D(G(z)) <= saturation_fake_prob held to the end; null if the last "
                "measurement is not saturated."
            ),
            "final_accuracy": figure(f"The probe D's {ACCURACY}, {final}"),
            "final_d_loss": figure(
                f"D's held-out loss, the sum of the real and the fake BCE means in nats, {final}"
            ),
            "final_d_real": figure(
                f"Mean D(x), the probability of real D gives held-out reals (0-1), {final}"
            ),
            "final_d_fake": figure(
                f"Mean D(G(z)), the probability of real D gives the fakes (0-1), {final}"
            ),
            "final_fake_saturated_share": figure(
                f"Share of fakes with D(G(z)) < 0.01 (0-1), {final}"
            ),
            "final_js_lower_bound": figure(
                f"Lower bound on the Jensen-Shannon divergence, max(0, log 2 - L_D / 2) in "
                f"nats (at most log 2 = 0.693), {final}"
            ),
            "max_js_lower_bound": figure("The largest JS lower bound measured, in nats"),
            "minimax_grad_start": figure(
                "L2 norm over all generator parameters of the gradient of the minimax cost "
                "E[log(1 - D(G(z)))] at step 0 (the fresh D), mean over the K latent batches"
            ),
            "minimax_grad_peak": figure(
                "The minimax gradient norm at its peak: the maximum of its running median "
                "over three"
            ),
            "minimax_grad_peak_step": integer(
                "Step of the peak: the last measurement within 0.1 decades of the maximum "
                "(0 without one)."
            ),
            "minimax_grad_end": figure(f"The minimax gradient norm, {final}"),
            "minimax_decades_lost": figure(
                f"{DECADES}: log10(peak / end) of the minimax gradient (infinite, so null, "
                "when the end is exactly 0: the vanishing finding says fell_to_zero)"
            ),
            "nonsat_grad_start": figure(
                "Gradient norm of the -log D cost E[-log D(G(z))] at step 0, as the minimax one"
            ),
            "nonsat_grad_end": figure(f"The -log D gradient norm, {final}"),
            "nonsat_decades_gained": figure(
                f"{DECADES}: log10(end / start) of the -log D gradient; informative only, "
                "it grows against any generator while a fresh D's weights grow"
            ),
            "nonsat_growth_after_peak": figure(
                f"{DECADES}: log10(end / value where the minimax gradient turned down, at "
                "minimax_decline_step) of the -log D gradient (the exploding finding's "
                "figure, counted only where minimax_declined)"
            ),
            "nonsat_cv_steps": figure(
                "Coefficient of variation of the -log D gradient between measurements over "
                "the run's second half, around its log-linear trend"
            ),
            "nonsat_cv_latent": figure(
                "Mean over measurements of std / mean of the -log D gradient across the K "
                "latent batches"
            ),
            "final_overfit_rt": figure(
                f"ADA's r_t = E[sign(logit)] on a fixed subset of D's training reals (-1 to "
                f"1), {final}"
            ),
            "final_overfit_rv": figure(
                "ADA's r_v = (E[l_train] - E[l_val]) / (E[l_train] - E[l_gen]) on D's raw "
                "logits: 0 when unseen reals score like D's training reals, 1 when like "
                "fakes; the median of its defined values in the end window, null also when "
                "none is defined"
            ),
            "overfit_rt_uncertainty": figure(
                "95 % half-width of final_overfit_rt from its spread over the end window"
            ),
            "overfit_rv_uncertainty": figure(
                "95 % half-width of final_overfit_rv from its spread over the end window"
            ),
            "minimax_cv_steps": figure(
                "The minimax gradient's variation between measurements, as nonsat_cv_steps"
            ),
            "minimax_decades_uncertainty": figure(
                "95 % half-width, in decades, of minimax_decades_lost: the curve's noise "
                "around its trend through the medians it is read from, and its horizon "
                "shift (horizon_shifts), in quadrature"
            ),
            "minimax_declined": boolean(
                "The minimax gradient fell at least growth_needs_decline_decades below its "
                "peak: only then does the -log D growth after the peak count."
            ),
            "nonsat_growth_uncertainty": figure(
                "95 % half-width, in decades, of nonsat_growth_after_peak, as "
                "minimax_decades_uncertainty, with its onset shift (onset_shift) too"
            ),
            "onset_shift": figure(
                "How far nonsat_growth_after_peak moves where the minimax gradient's turn "
                "down is read one measurement earlier or later; in its uncertainty already"
            ),
            "horizon_shifts": array(
                {"type": "number"},
                "How far (minimax decades lost, -log D growth, held-out accuracy) moved over "
                "the last part of the run: |now - read at steps_run / 1.25|. Another run's D "
                "ahead or behind reads about this much differently, so each margin includes "
                "it (in the two gradient uncertainties already, in quadrature).",
                minItems=3,
                maxItems=3,
            ),
            "minimax_decline_step": optional_integer(
                "First step after the minimax gradient's (smoothed) maximum where it lies "
                "growth_needs_decline_decades below it: where it turned down; null where it "
                "never fell that far."
            ),
            "heldout_real": optional_integer(
                "Held-out reals the accuracy was measured on; null where the caller did not say."
            ),
            "heldout_fake": optional_integer(
                "Held-out fakes the accuracy was measured on; null where the caller did not say."
            ),
            "accuracy_low": figure(
                "Lower end of the final accuracy's 95 % Wilson interval (null also without "
                "the held-out counts)"
            ),
            "accuracy_high": figure("Upper end of that interval"),
            "accuracy_sd": figure("Standard error of the final accuracy"),
            "c2st_p_value": figure(
                'One-sided p-value of "D does no better than chance" at the final accuracy '
                "(classifier two-sample test)"
            ),
        },
    )


def probe_series() -> Schema:
    return obj(
        "Every measured figure per measurement step (results.series.ProbeSeries), on "
        "held-out reals and the held-out latents.",
        {
            "step": array({"type": "integer"}, "The D step of each measurement."),
            "heldout_accuracy": series(f"The probe D's {ACCURACY}"),
            "d_loss": series("D's held-out loss L_D, the sum of the two BCE means, in nats"),
            "d_real": series("Mean D(x) on held-out reals: probability of real, 0-1"),
            "d_fake": series("Mean D(G(z)) on the held-out latents: probability of real, 0-1"),
            "fake_saturated_share": series("Share of fakes with D(G(z)) < 0.01"),
            "js_lower_bound": series("JS lower bound max(0, log 2 - L_D / 2), in nats"),
            "minimax_grad_mean": series(
                "Generator gradient norm (L2 over all parameters) of E[log(1 - D(G(z)))], "
                "mean over the K latent batches"
            ),
            "minimax_grad_std": series("Its standard deviation over the K latent batches"),
            "nonsat_grad_mean": series(
                "Generator gradient norm of E[-log D(G(z))], mean over the K latent batches"
            ),
            "nonsat_grad_std": series("Its standard deviation over the K latent batches"),
            "overfit_rt": series(
                "ADA's r_t = E[sign(logit)] on a fixed subset of D's training reals, -1 to 1"
            ),
            "overfit_rv": series(
                "ADA's r_v on raw logits (0: unseen reals score like training ones, 1: like "
                "fakes); null also where undefined"
            ),
        },
    )


MARGIN_FIGURES = {
    "final_accuracy": "saturation: the final held-out accuracy",
    "minimax_decades_lost": "vanishing: the minimax gradient's decades lost",
    "nonsat_growth_after_peak": "exploding: the -log D growth after the minimax peak",
    "nonsat_cv_steps": "exploding (noisy): the -log D gradient's variation",
    "duplicate_ratio": "collapse: the near-duplicate ratio",
    "diversity_ratio": "collapse: the diversity ratio",
    "coverage": "collapse: coverage",
    "overfit_rt": "overfitting: r_t",
    "overfit_rv": "overfitting: r_v",
    "range_overshoot": "range_mismatch: the overshoot as a share of the range",
    "range_overlap": "range_mismatch: the overlap as a share of the real span",
    "own_d_gradient_gap_decades": "d_dominant: decades between the own D's gradients",
    "own_d_unseen_auc": "d_overfit: P(training real > unseen real)",
    "own_d_r_t": "d_overfit: the own D's r_t",
    "own_d_r_v": "d_overfit: the own D's r_v",
    "own_d_r1_penalty": "penalty_ineffective: gamma / 2 * R1",
    "logged_d_loss": "d_loss_collapse: the logged D loss (its threshold scaled to the loss's "
    "chance level)",
    "logged_r_t": "d_loss_collapse: the logged r_t",
    "logged_augment_p": "d_loss_collapse: ADA's logged p",
    "logged_augment_p_lowest": "augment_ceiling: the lowest p over the ticks at the ceiling",
    "logged_fid_rise": "fid_regressed: the logged FID's relative rise",
}


def margin() -> Schema:
    figures = "; ".join(f"{k} ({v})" for k, v in MARGIN_FIGURES.items())
    return obj(
        "What decided a finding: a figure, the threshold it was held against, and the "
        "figure's own 95 % uncertainty.",
        {
            "figure": {
                "type": "string",
                "enum": list(MARGIN_FIGURES),
                "description": f"The deciding figure: {figures}.",
            },
            "value": figure(
                "The figure's value, in its own unit (infinite, so null, for a gradient "
                "that fell to 0)"
            ),
            "threshold": number("The threshold it was held against, in the same unit."),
            "uncertainty": figure(
                "95 % half-width of the figure, in its unit: a binomial half-width for an "
                "accuracy or share, the spread in decades for a gradient reading"
            ),
        },
    )


def collapse() -> Schema:
    return obj(
        "Diversity of generated samples against held-out real ones in pooled-pixel "
        "feature space (analyses.collapse).",
        {
            "samples": integer("n: real and generated samples compared, each."),
            "features": integer("Dimensions of the feature space (pixels pooled to <= 8x8)."),
            "diversity_ratio": figure(
                "Mean pairwise distance among generated samples / among real ones (1 = as "
                "diverse as the data)"
            ),
            "duplicate_threshold": figure(
                "tau: the distance (Euclidean, in feature units) below which a pair counts "
                "as a near-duplicate: the 1st percentile of distances within D's training "
                "reals"
            ),
            "duplicate_rate": figure("Share of generated pairs closer than tau (0-1)"),
            "real_duplicate_rate": figure(
                "Share of held-out real pairs closer than tau (about 0.01)"
            ),
            "precision": figure(
                "Share of generated samples inside some real k-NN ball (Naeem et al. 2020)"
            ),
            "coverage": figure("Share of real k-NN balls holding a generated sample"),
            "k": integer("k of the k-NN balls."),
            "diversity_uncertainty": figure("95 % half-width of diversity_ratio"),
            "duplicate_ratio": figure(
                "duplicate_rate / real_duplicate_rate: how many times more near-duplicate "
                "pairs generated samples hold (infinite, so null, with none among reals)"
            ),
        },
    )


def evidence_defs(severity: bool = False) -> dict[str, Schema]:
    """The evidence of each finding code. ``severity``: preflight's copy, which adds the
    finding's severity to its evidence."""
    extra = {"severity": ref("severity", "The finding's severity.")} if severity else {}

    def ev(description: str, properties: dict[str, Schema], **kw: Any) -> Schema:
        return obj(description, {**extra, **properties}, **kw)

    collapse_stats = collapse()
    broken_variants = [
        {"nonfinite_parameters": integer("NaN/Inf elements in the weights and buffers.")},
        {"nonfinite_output_share": number("Share of generated values that are NaN/Inf.")},
        {
            "spread_ratio": figure("Generated spread across z / the real data's"),
            "output_spread": figure("Generated samples' mean per-feature std"),
            "real_spread": figure("Held-out reals' mean per-feature std"),
        },
        {"step": integer("First step at which a loss or gradient was NaN/Inf.")},
        {},
    ]
    mode_info = {
        "train_eval_difference": figure("||G_train(z) - G_eval(z)|| / ||G_eval(z)||"),
    }
    mode_fail = {
        "eval_spread_ratio": figure("Eval mode's spread ratio (generated / real spread)"),
        "train_spread_ratio": figure("Train mode's spread ratio"),
        "eval_nonfinite_share": number("Share of NaN/Inf values in eval mode."),
    }
    evidence = {
        "evidence_saturation": ev(
            "saturation's evidence.",
            {
                "steps_to_saturation": optional_integer(
                    "Step from which D stayed saturated; null for the warning."
                ),
                "final_accuracy": figure(f"Final {ACCURACY}"),
                "accuracy_interval": pair(
                    {"type": ["number", "null"]}, "Its 95 % Wilson interval [low, high]."
                ),
                "c2st_p_value": figure("p-value of the two-sample test against chance"),
                "final_d_fake": figure("Final mean D(G(z)), probability of real"),
                "final_js_lower_bound": figure("Final JS lower bound, in nats"),
            },
        ),
        "evidence_vanishing": ev(
            "vanishing's evidence.",
            {
                "decades_lost": figure(f"{DECADES}: log10(peak / end) of the minimax gradient"),
                "peak": figure("The minimax gradient norm at its peak"),
                "peak_step": integer("Step of the peak."),
                "end": figure("The minimax gradient norm at the end"),
                "fell_to_zero": boolean("The minimax gradient fell to exactly 0."),
                "cv_steps": figure("Its variation between measurements"),
            },
        ),
        "evidence_exploding": ev(
            "exploding's evidence.",
            {
                "growth_after_peak": figure(f"{DECADES}: -log D growth after the minimax peak"),
                "growth_counts": boolean("The minimax gradient declined, so the growth counts."),
                "decline_step": optional_integer(
                    "Step where the minimax gradient turned down, from which the growth is "
                    "read; null where it never did."
                ),
                "decades_gained_from_start": figure(f"{DECADES}: log10(end / start)"),
                "start": figure("The -log D gradient norm at step 0"),
                "end": figure("The -log D gradient norm at the end"),
                "cv_steps": figure("Its variation between measurements"),
                "cv_latent": figure("Its variation across the K latent batches"),
            },
        ),
        "evidence_collapse": {
            **collapse_stats,
            "description": "collapse's evidence: the sample figures.",
            "properties": {**extra, **collapse_stats["properties"]},
            "required": [*extra, *collapse_stats["required"]],
        },
        "evidence_broken": {
            "description": "broken's evidence: what is broken (empty when no gradient "
            "reaches the parameters).",
            "anyOf": [ev("One way of being broken.", variant) for variant in broken_variants],
        },
        "evidence_mode_mismatch": {
            "description": "mode_mismatch's evidence: the difference (info), or eval mode's "
            "broken samples against train mode's (fail).",
            "anyOf": [
                ev("The two modes differ (info).", mode_info),
                ev("Eval mode alone is broken (fail).", mode_fail),
            ],
        },
        "evidence_range_mismatch": ev(
            "range_mismatch's evidence.",
            {
                "output_range": ref("range", "The range the real data were scaled to."),
                "generated": pair({"type": ["number", "null"]}, "Generated values' [min, max]."),
                "real": pair({"type": ["number", "null"]}, "Held-out real values' [min, max]."),
            },
        ),
        "evidence_overfitting": ev(
            "overfitting's evidence.",
            {
                "r_t": figure("Final r_t of the probe D"),
                "r_v": figure("Final r_v of the probe D"),
            },
        ),
        "evidence_d_dominant": ev(
            "d_dominant's evidence.",
            {
                "heldout_accuracy": figure(f"The own D's {ACCURACY}"),
                "gap_decades": figure(
                    f"{DECADES}: log10(-log D gradient / minimax gradient) through the own D"
                ),
            },
        ),
        "evidence_d_overfit": ev(
            "d_overfit's evidence.",
            {
                "unseen_auc": figure("P(D(training real) > D(unseen real)) of the own D"),
                "r_t": figure("The own D's r_t"),
                "r_v": figure("The own D's r_v against the unseen reals"),
            },
        ),
        "evidence_penalty_ineffective": ev(
            "penalty_ineffective's evidence.",
            {
                "r1": figure("The own D's R1 = E||grad_x D(x)||^2 on held-out reals"),
                "r1_gamma": number("The R1 weight gamma the run claims."),
                "penalty": figure("gamma / 2 * R1, in nats"),
            },
        ),
        "evidence_d_loss_collapse": ev(
            "d_loss_collapse's evidence: what the run logged over the tick of the snapshot.",
            {
                "d_loss": number("The logged D loss, in the log's unit (nats per sample)."),
                "r_t": number("The logged r_t = E[sign(D(x_real))], -1 to 1."),
                "augment_p": optional_number(
                    "ADA's logged p (0-1) at the snapshot; null where ADA was off."
                ),
                "at": string("Where in training, in the log's words: kimg 4000.1, step 1200."),
            },
        ),
        "evidence_augment_ceiling": ev(
            "augment_ceiling's evidence.",
            {
                "ticks": integer("Logged ticks in a row up to the snapshot with p at its ceiling."),
                "lowest": number("The lowest p over those ticks."),
                "augment_p": number("p at the snapshot."),
                "at": string("Where in training, in the log's words."),
            },
        ),
        "evidence_fid_regressed": ev(
            "fid_regressed's evidence.",
            {
                "rises": integer("Evaluations in a row, up to the snapshot, at which FID rose."),
                "from": number("The FID before those rises."),
                "to": number("The FID at the last evaluation."),
                "rise": number("to / from - 1: the relative rise."),
                "at": string("Where in training, in the log's words."),
            },
        ),
    }
    missing = sorted(f"evidence_{c}" for c in FindingCode if f"evidence_{c}" not in evidence)
    if missing:
        raise SystemExit(f"schema/build.py: give the finding codes their evidence: {missing}")
    return evidence


def finding() -> Schema:
    schema = obj(
        "A finding: what was found, how sure, and what to do.",
        {
            "code": ref("finding_code", "What the finding is about."),
            "severity": ref("severity", "How bad it is."),
            "message": string("What was found, with its figures, in words."),
            "remedy": string("What to do about it, in words."),
            "evidence": {
                "type": "object",
                "description": "The figures behind the finding; their keys depend on the code "
                "($defs evidence_<code>).",
            },
            "margin": optional_ref(
                "margin",
                "The deciding figure against its threshold; null for findings that are "
                "not a figure against a threshold (broken, mode_mismatch).",
            ),
            "borderline": boolean(
                "The figure lies within its uncertainty of the threshold: another runner, "
                "seed or precision may put it on the other side (the gate does not fail on "
                "it unless --fail-on names borderline)."
            ),
        },
    )
    schema["allOf"] = [
        {
            "if": {"properties": {"code": {"const": str(code)}}, "required": ["code"]},
            "then": {"properties": {"evidence": {"$ref": f"#/$defs/evidence_{code}"}}},
        }
        for code in FindingCode
    ]
    return schema


def layer() -> Schema:
    return obj(
        "One generator layer's gradient norms under both costs (--layers; "
        "results.layers.LayerGradient), read like the global figures.",
        {
            "layer": string(
                "The owning module's name, as in named_modules(): main.0; (root) for "
                "parameters of the generator itself."
            ),
            "type": string("The owning module's class: ConvTranspose2d."),
            "parameters": integer("Parameter elements the layer owns."),
            "minimax_start": figure("Its minimax gradient norm at step 0"),
            "minimax_peak": figure(
                "Its minimax gradient norm (running median over three) at the global "
                "minimax peak's measurement"
            ),
            "minimax_end": figure("Its minimax gradient norm, median over the end window"),
            "minimax_decades_lost": figure(
                f"{DECADES}: log10(peak / end); null also for a dead layer"
            ),
            "nonsat_start": figure("Its -log D gradient norm at step 0"),
            "nonsat_end": figure("Its -log D gradient norm, median over the end window"),
            "nonsat_decades_gained": figure(f"{DECADES}: log10(end / start)"),
            "dead": boolean("No gradient at any measurement under either cost."),
            "minimax_series": series("Its minimax gradient norm at each measurement"),
            "nonsat_series": series("Its -log D gradient norm at each measurement"),
            "start_step": integer("Step of the start column."),
            "peak_step": integer("Step at which the global minimax gradient peaked."),
            "end_from_step": integer("First step of the end window."),
            "end_step": integer("Last step of the end window."),
        },
    )


def own_discriminator() -> Schema:
    return obj(
        "The checkpoint's own D, measured without training on the probe's held-out reals "
        "and fixed latents (results.own_discriminator.OwnDiscriminator). Logits are read "
        "as the non-saturating GAN's (D = sigmoid(logit)); held-out means held out from "
        "the probe's D, not from the GAN's training.",
        {
            "architecture": string("What was built: dcgan D (PyTorch examples), ..."),
            "source": string("Where it came from: the checkpoint's entry (D, d, netD) or file."),
            "loss": string(
                "The loss it was trained with where the checkpoint says so, else "
                "non-saturating (assumed)."
            ),
            "heldout_accuracy": figure(f"Its {ACCURACY}"),
            "mean_d_real": figure("Mean D(x) on held-out reals: probability of real, 0-1"),
            "mean_d_fake": figure("Mean D(G(z)) on the fakes: probability of real, 0-1"),
            "js_lower_bound": figure("JS lower bound from its held-out loss, in nats"),
            "minimax_grad_norm": ref(
                "spread",
                "Generator gradient norm of the minimax cost through this D over the K "
                "latent batches.",
            ),
            "nonsat_grad_norm": ref(
                "spread", "Generator gradient norm of the -log D cost through this D."
            ),
            "r1": ref(
                "spread",
                "R1 = E||grad_x D(x)||^2 on held-out reals (the penalty before its gamma / 2).",
            ),
            "r2": ref("spread", "The same on generated samples."),
            "gp_norm": ref(
                "spread",
                "||grad_x D|| on interpolates between held-out reals and fakes (WGAN-GP's norm).",
            ),
            "r_t": figure(
                "ADA's r_t = E[sign D(x)] on the reals of --data the probe D trained on, -1 to 1"
            ),
            "r_v": figure(
                "r_v = (E[D_train] - E[D_unseen]) / (E[D_train] - E[D_fake]) on logits, the "
                "unseen reals being --val-data's, else the probe's held-out split; null "
                "also where the denominator is not significant"
            ),
            "r1_samples": integer("Held-out reals R1, R2 and the WGAN-GP norm are means over."),
            "latent_batches": integer("K: latent batches the gradient norms' spread is over."),
            "augment_p": optional_number(
                "ADA's augmentation probability p stored beside this D; null if none."
            ),
            "r1_gamma": optional_number(
                "The R1 weight gamma the run claims (snapshot kwargs, rosinality args.r1); "
                "null = unknown."
            ),
            "unseen": optional_string(
                "Where the reals the GAN never saw came from (--val-data); null without them."
            ),
            "unseen_auc": figure(
                "P(D(training real) > D(unseen real)): 0.5 where D scores both alike; null "
                "also without unseen reals"
            ),
            "r_t_uncertainty": figure("95 % half-width of r_t"),
            "r_v_uncertainty": figure("95 % half-width of r_v"),
            "unseen_auc_uncertainty": figure("95 % half-width of unseen_auc"),
        },
    )


def remedy_defs() -> dict[str, Schema]:
    noise_row = {
        "share": number("sigma as a share of the data range (0 for the plain probe)."),
        "sigma": number("sigma in the generator's output units."),
        "steps_run": integer("D steps run."),
        "stopped_early": boolean("The run stopped before its steps."),
        "complete": boolean("False when the time budget cut this run short."),
        "steps_to_saturation": optional_integer(
            "Step from which D stayed saturated; null if it did not saturate."
        ),
        "saturated": boolean("D saturated (steps_to_saturation is not null)."),
        "final_accuracy": figure(f"Final {ACCURACY}"),
        "final_d_fake": figure("Final mean D(G(z)), probability of real"),
        "final_js_lower_bound": figure("Final JS lower bound in nats, on the noised distributions"),
        "minimax_grad_start": figure("Minimax gradient norm at step 0"),
        "minimax_grad_peak": figure("Minimax gradient norm at its peak"),
        "minimax_grad_end": figure("Minimax gradient norm at the end"),
        "minimax_decades_lost": figure(f"{DECADES}: log10(peak / end) of the minimax gradient"),
        "vanishes": boolean("The minimax gradient lost at least vanishing_warn_decades."),
        "nonsat_growth_after_peak": figure(f"{DECADES}: -log D growth after the minimax peak"),
        "keeps_signal": boolean("Not saturated and not vanishing: the signal is alive."),
        "seconds": number("Wall time of the run in seconds."),
    }
    critic_series = obj(
        "The critic's figures per measurement step, on held-out reals and latents.",
        {
            "step": array({"type": "integer"}, "The critic step of each measurement."),
            "critic_gap": series("Mean C(x) over held-out reals - mean C(G(z)), critic units"),
            "slope": series("Mean ||grad_x C|| at points between held-out reals and fakes"),
            "w1_estimate": series("critic_gap / slope: the Wasserstein-1 estimate, output units"),
            "grad_mean": series(
                "Generator gradient norm of -E[C(G(z))], mean over the K latent batches"
            ),
            "grad_std": series("Its standard deviation over the K latent batches"),
        },
    )
    return {
        "noise_baseline": obj(
            "The probe itself as the sigma = 0 row (its series is the probe's own).",
            noise_row,
        ),
        "noise_check": obj(
            "One probe with instance noise N(0, sigma^2) on D's real and fake inputs.",
            {**noise_row, "series": ref("probe_series", "This run's series.")},
        ),
        "critic": obj(
            "A WGAN-GP critic trained against the frozen generator (remedies.critic).",
            {
                "steps_run": integer("Critic steps run."),
                "w1_estimate": figure(
                    "Wasserstein-1 estimate, gap / slope, in output units (median of the "
                    "last three measurements)"
                ),
                "critic_gap": figure("Final E[C(x)] - E[C(G(z))] on held-out data"),
                "slope": figure("Final mean ||grad_x C|| on held-out interpolates"),
                "grad_start": figure("Generator gradient norm of -E[C(G(z))] at step 0"),
                "grad_peak": figure("That norm at its peak"),
                "grad_peak_step": integer("Step of the peak."),
                "grad_end": figure("That norm at the end"),
                "decades_lost": figure(
                    f"{DECADES}: log10(peak / end), read as the minimax decades lost"
                ),
                "seconds": number("Wall time of the critic's run in seconds."),
                "series": critic_series,
                "stop_reason": string("Why the critic stopped, in words."),
                "vanishes": boolean(
                    "Its gradient lost at least vanishing_warn_decades (as the minimax one's)."
                ),
            },
        ),
        "remedies": obj(
            "The remedy checks (--remedies): instance noise at a few levels and a WGAN-GP "
            "critic, against the same frozen generator, split, latents and seed.",
            {
                "settings": obj(
                    "The remedy checks' settings (gandoctor.config.RemedyOptions).",
                    {
                        "noise_levels": array(
                            {"type": "number"},
                            "Noise standard deviations tried, as shares of the data range.",
                        ),
                        "critic": boolean("A WGAN-GP critic was trained too."),
                        "critic_steps": optional_integer(
                            "Critic steps; null = as many as the probe ran."
                        ),
                        "critic_lr": number("The critic's Adam learning rate."),
                        "critic_betas": pair({"type": "number"}, "The critic's Adam betas."),
                        "gradient_penalty": number("lambda of the gradient penalty."),
                        "w1_noise_divisor": number(
                            "When no noise level helps, suggest sigma = W1 / this."
                        ),
                    },
                ),
                "data_range": number(
                    "The unit of the noise shares: the width of the output range (or of the "
                    "real values when it is unknown), in output units."
                ),
                "baseline": ref("noise_baseline", "The probe itself, the sigma = 0 row."),
                "instance_noise": array(
                    {"$ref": "#/$defs/noise_check"}, "One run per noise level, largest first."
                ),
                "recommended_noise": {
                    "anyOf": [
                        obj(
                            "The level to start annealing from.",
                            {
                                "share": number("sigma as a share of the data range."),
                                "sigma": number("sigma in output units."),
                            },
                        ),
                        {"type": "null"},
                    ],
                    "description": "The smallest sigma tried that keeps the minimax signal "
                    "alive, every larger one too; null when no noise is needed or none helps.",
                },
                "suggested_noise_share": optional_number(
                    "When no level tried helps: W1 / w1_noise_divisor as a share of the data "
                    "range; null otherwise or without a usable W1 estimate."
                ),
                "recommendation": string("What to do, in words."),
                "critic": optional_ref("critic", "The critic's run; null when not run."),
            },
        ),
    }


def repeats() -> Schema:
    codes = "|".join(sorted(str(c) for c in FindingCode))
    severities = "|".join(str(s) for s in Severity)
    spread = obj(
        "A headline figure over the seeds' runs that have it.",
        {
            "median": figure("Median over the runs"),
            "min": figure("Smallest value"),
            "max": figure("Largest value"),
            "runs": integer("Runs that had the figure."),
        },
    )
    return obj(
        "The probe under more seeds (--seeds N; results.repeats): the first seed's probe is "
        "the checkpoint's own, the verdict is by majority.",
        {
            "seeds": array({"type": "integer"}, "The seeds, the first the report's own."),
            "verdict": ref(
                "verdict", "The verdict most runs reached; between equally many, the worse."
            ),
            "votes": {
                "type": "object",
                "description": "Verdict -> how many runs reached it.",
                "propertyNames": {"$ref": "#/$defs/verdict"},
                "additionalProperties": {"type": "integer"},
            },
            "finding_counts": {
                "type": "object",
                "description": "code:severity -> how many runs had that finding.",
                "propertyNames": {"pattern": f"^(?:{codes}):(?:{severities})$"},
                "additionalProperties": {"type": "integer"},
            },
            "figures": obj(
                "Each headline figure's median and range over the runs.",
                {
                    name: {**spread, "description": f"{name} over the runs (as in summary)."}
                    for name in REPEAT_FIGURES
                },
            ),
            "per_seed": array(
                obj(
                    "One seed's probe.",
                    {
                        "seed": integer("The seed."),
                        "verdict": ref("verdict", "This run's verdict."),
                        "summary": optional_ref(
                            "summary", "Its summary; null for a broken generator."
                        ),
                        "series": ref("probe_series", "Its series."),
                        "findings": array({"$ref": "#/$defs/finding"}, "Its findings."),
                    },
                ),
                "Every seed's probe, in the order of seeds.",
            ),
        },
    )


def baseline() -> Schema:
    either = {"type": ["string", "integer", "number", "null"]}

    def versus(description: str, value: Schema) -> Schema:
        return obj(
            description,
            {
                "baseline": {**value, "description": "In the baseline report."},
                "now": {**value, "description": "In this probe."},
            },
        )

    nint = {"type": ["integer", "null"]}
    nnum = {"type": ["number", "null"]}
    figures = obj(
        "Figure -> its value in the baseline and now.",
        {
            "verdict": versus("The verdict.", {"$ref": "#/$defs/verdict"}),
            "steps_run": versus("D steps run.", {"type": "integer"}),
            "steps_to_saturation": versus("Steps to saturation (null: none).", nint),
            "final_accuracy": versus(f"Final {ACCURACY} (null: not finite).", nnum),
            "final_d_fake": versus("Final mean D(G(z)), probability of real.", nnum),
            "minimax_decades_lost": versus(f"{DECADES}: minimax decades lost.", nnum),
            "nonsat_growth_after_peak": versus(f"{DECADES}: -log D growth after the peak.", nnum),
            "fail_findings": versus(
                "Codes of the fail-level findings (not borderline, now).",
                {"type": "array", "items": {"type": "string"}},
            ),
        },
    )
    return obj(
        "The comparison with --baseline (judge.baseline); its regressions fail the gate.",
        {
            "path": string("The baseline report's path."),
            "regressed": boolean("Any regression: the exit code is 1."),
            "tolerances": obj(
                "The tolerances the comparison ran with (thresholds regression_*).",
                {
                    "regression_saturation_share": number("Share of steps, 0-1."),
                    "regression_decades": number("Decades of minimax gradient lost."),
                    "regression_growth_decades": number("Decades of -log D growth."),
                },
            ),
            "checkpoints": array(
                obj(
                    "One probed checkpoint against its baseline entry.",
                    {
                        "checkpoint": string("The probed checkpoint."),
                        "baseline_checkpoint": string("Its entry in the baseline report."),
                        "figures": figures,
                        "regressions": array(
                            obj(
                                "One regression.",
                                {
                                    "figure": enum(
                                        (
                                            "verdict",
                                            "steps_to_saturation",
                                            "minimax_decades_lost",
                                            "nonsat_growth_after_peak",
                                            "finding",
                                        ),
                                        "What regressed (finding: a new fail-level finding).",
                                    ),
                                    "baseline": {
                                        **either,
                                        "description": "Its value in the baseline (null: "
                                        "none, e.g. no saturation or no such finding).",
                                    },
                                    "current": {
                                        **either,
                                        "description": "Its value now (a finding code for "
                                        "finding).",
                                    },
                                    "message": string("The regression in words."),
                                },
                            ),
                            "What got worse.",
                        ),
                    },
                ),
                "The compared checkpoints.",
            ),
            "unmatched": array(
                {"type": "string"}, "Probed checkpoints the baseline has no entry for."
            ),
            "missing": array({"type": "string"}, "Baseline checkpoints not probed this time."),
            "settings_differ": open_object(
                "Probe settings (thresholds.NAME, plan of FILE) that differ -> their values; "
                "figures may differ for that.",
                obj(
                    "A setting in the baseline and now.",
                    {
                        "baseline": {"description": "In the baseline report."},
                        "now": {"description": "In this probe."},
                    },
                ),
            ),
        },
    )


def run() -> Schema:
    snapshot = obj(
        "One snapshot of the run and where in training it was saved (runs.folders.Snapshot).",
        {
            "path": string("The snapshot's path."),
            "kimg": optional_number(
                "NVlabs: thousands of real images shown, from the file name; null otherwise."
            ),
            "step": optional_integer(
                "rosinality: the iteration; Lightning: the global step, where the name has "
                "it; null otherwise."
            ),
            "epoch": optional_integer(
                "Lightning: the epoch, where the name has it; null otherwise."
            ),
        },
    )
    return obj(
        "A training run's folder given as a checkpoint, and the snapshots chosen from it "
        "(runs.selection.ChosenRun).",
        {
            "root": string("The run folder."),
            "kind": enum(("nvlabs", "rosinality", "lightning"), "The run folder's layout."),
            "options_file": optional_string(
                "The run's options file (training_options.json, hparams.yaml, ...); null if none."
            ),
            "data_named": optional_string(
                "The data set the options name, as written, whether or not it exists here."
            ),
            "data_found": optional_string(
                "That data set's path where it exists here; null otherwise."
            ),
            "data_used": boolean(
                "Whether the probe read that data set (--data left out), not data given by hand."
            ),
            "snapshots_found": integer("Snapshots in the run folder."),
            "snapshots_probed": array(snapshot, "The snapshots chosen, in training order."),
            "chosen": string("How they were chosen (--every, --last, the time budget), in words."),
            "notes": array(
                {"type": "string"},
                "What was chosen on the user's behalf (a Lightning version, last.ckpt left out).",
            ),
        },
    )


def ranking() -> Schema:
    snapshot = obj(
        "One ranked snapshot (results.ranking.RankedSnapshot).",
        {
            "checkpoint": string("The snapshot's checkpoint."),
            "rank": integer("1 for the best; tied snapshots share their group's rank."),
            "group": integer(
                "Tie group, 1 for the best: snapshots whose 95 % intervals overlap share one."
            ),
            "accuracy": number(f"The fresh D's final {ACCURACY}: lower is better, 0.5 is chance."),
            "low": number("Lower end of its 95 % Wilson interval."),
            "high": number("Upper end of its 95 % Wilson interval."),
            "own_d_problems": optional_integer(
                "Own-D findings at warn or fail (d_dominant, d_overfit, penalty_ineffective); "
                "null where the checkpoint holds no D."
            ),
            "fid": optional_number("The FID the run logged for this snapshot; null where none."),
        },
    )
    return obj(
        "The checkpoints ranked by the classifier two-sample test (--rank; judge.ranking).",
        {
            "snapshots": array(snapshot, "The ranked snapshots, best first."),
            "best": optional_string(
                "The best snapshot, where its interval is separated from every other's; "
                "null otherwise."
            ),
            "summary": string("The ranking in words."),
            "fid_agreement": optional_number(
                "Share (0-1) of the snapshot pairs the ranking separates that the logged FID "
                "orders the same way; null where fewer than two ranked snapshots have a FID."
            ),
            "unranked": array(
                {"type": "string"},
                "Snapshots without a final accuracy (a broken generator, no D step, a probe "
                "cut short).",
            ),
        },
    )


def checkpoint() -> Schema:
    return obj(
        "One checkpoint: the generator's facts, the data, the probe's outcome.",
        {
            "checkpoint": string("The checkpoint's path as given, or the module's name."),
            "verdict": ref("verdict", "The probe's verdict; with repeats, the majority's."),
            "generator": ref("generator", "What was detected about the generator."),
            "data": ref("data", "The real data."),
            "probe": ref("probe", "How the probe ran."),
            "health": ref("health", "Checks on the generator itself."),
            "summary": optional_ref(
                "summary",
                "Headline figures; null when the generator was broken before D's first step.",
            ),
            "series": ref("probe_series", "Every figure at every measurement step."),
            "findings": array(
                {"$ref": "#/$defs/finding"},
                "The probe's findings (with repeats, the first seed's; repeats.per_seed has "
                "the others).",
            ),
            "notes": array({"type": "string"}, "Notes on the probe (few held-out samples ...)."),
            "collapse": optional_ref(
                "collapse", "Sample diversity; null for a broken generator or too few samples."
            ),
            "layers": {
                "anyOf": [
                    array({"$ref": "#/$defs/layer"}, "One entry per layer."),
                    {"type": "null"},
                ],
                "description": "Per-layer gradient norms (--layers); null without.",
            },
            "remedies": optional_ref("remedies", "The remedy checks; null without --remedies."),
            "repeats": optional_ref("repeats", "The probes under more seeds; null for one."),
            "own_discriminator": optional_ref(
                "own_discriminator", "The checkpoint's own D; null where none was measured."
            ),
            "run_log": optional_ref(
                "run_log",
                "What the training run logged at this snapshot (runs.attach); null where the "
                "checkpoint is not a snapshot of a run folder with a log.",
            ),
        },
    )


def run_log() -> Schema:
    logged = "the run logged at the last tick (NVlabs) or step at or before the snapshot"
    return obj(
        "What a training run logged at one of its snapshots (runs.logs.RunLog.around): "
        "stats.jsonl and metric-*.jsonl of an NVlabs run, or TensorBoard event files "
        "(Lightning), read beside the probe's own figures.",
        {
            "format": enum(("nvlabs", "tensorboard"), "Which log was read."),
            "files": array({"type": "string"}, "The log files read, by name."),
            "axis": enum(
                ("kimg", "step"),
                "The position axis: kimg (thousands of real images shown) for NVlabs runs, "
                "the global step for the others.",
            ),
            "kimg": optional_number(
                "NVlabs: the kimg of the tick read (Progress/kimg; the snapshot is named by "
                "its floor); null on the step axis."
            ),
            "step": optional_integer("The step read at; null on the kimg axis."),
            "tick": optional_integer("NVlabs: the tick read (Progress/tick); null otherwise."),
            "d_loss": optional_number(
                f"D's loss {logged} (NVlabs Loss/D/loss: softplus(D(fake)) + "
                "softplus(-D(real)) per sample, 2 ln 2 = 1.386 at chance); null where none."
            ),
            "g_loss": optional_number(f"G's loss {logged}; null where none."),
            "r_t": optional_number(
                f"ADA's r_t = E[sign(D(x_real))] (-1 to 1) {logged}; null where none."
            ),
            "augment_p": optional_number(
                f"ADA's augmentation probability p {logged}; null where none."
            ),
            "r1_penalty": optional_number(
                f"The R1 penalty E|grad D(x)|^2 {logged}; null where none (NVlabs: NaN in "
                "a tick without R1 steps)."
            ),
            "fid": optional_number(
                "The FID logged for this snapshot: the metric line naming it (NVlabs), else "
                "the last at or before it; null where none."
            ),
            "fid_metric": optional_string("Which FID (fid50k_full, or the tag read)."),
            "fid_at": optional_number("Where on the axis that FID was computed."),
            "findings": array(
                {"$ref": "#/$defs/finding_code"},
                "The run-log findings at this snapshot (d_loss_collapse, augment_ceiling, "
                "fid_regressed), in the order of the checkpoint's findings, which hold them.",
            ),
            "agreement": {
                "anyOf": [
                    obj(
                        "Whether the probe sees a logged d_loss_collapse too.",
                        {
                            "fresh_d": boolean(
                                "The probe's fresh D separates this snapshot's fakes "
                                "(a saturation finding)."
                            ),
                            "own_d": {
                                "type": ["boolean", "null"],
                                "description": "The checkpoint's own D dominates its G "
                                "(d_dominant); null where it was not measured.",
                            },
                            "text": string("The same, and what follows from it, in words."),
                        },
                    ),
                    {"type": "null"},
                ],
                "description": "With d_loss_collapse: whether the fresh and the own D agree; "
                "null without.",
            },
            "notes": array(
                {"type": "string"}, "What was skipped while reading (a cut last line ...)."
            ),
        },
    )


def report_schema() -> Schema:
    top = obj(
        "A gandoctor probe report (gandoctor probe --json, gandoctor merge --json).",
        {
            "schema": {
                "const": REPORT_SCHEMA,
                "description": "The report's schema id; it changes when a key changes meaning.",
            },
            "version": string("gandoctor's version that wrote the report."),
            "verdict": ref("verdict", "The worst verdict over the checkpoints."),
            "complete": boolean(
                "False when any checkpoint's probe was cut short before its verdict settled."
            ),
            "exit_code": {
                "type": "integer",
                "enum": [0, 1],
                "description": "1 when the gate failed (a finding --fail-on names, or a "
                "regression against --baseline), else 0.",
            },
            "fail_on": {
                "type": "string",
                "pattern": _code_pattern(),
                "description": "The gate, as canonical --fail-on text: severities, codes, "
                "code:severity, borderline, or none.",
            },
            "settings": ref("settings", "The probe's settings."),
            "checkpoints": array(
                {"$ref": "#/$defs/checkpoint"}, "The checkpoints, in the order probed."
            ),
            "baseline": optional_ref("baseline", "The --baseline comparison; null without."),
            "config_file": optional_string(
                "The pyproject.toml whose [tool.gandoctor] table set options; null if none."
            ),
            "runs": array(
                {"$ref": "#/$defs/run"},
                "The training run folders among the checkpoints, with the snapshots chosen "
                "from each; empty where none was given.",
            ),
            "ranking": optional_ref("ranking", "The checkpoints ranked (--rank); null without."),
            "merged_from": array(
                {"type": "string"},
                "gandoctor merge only: the reports joined, in the order given.",
            ),
        },
        optional=("merged_from",),
    )
    defs = {
        **vocabulary(),
        "thresholds": thresholds(),
        "settings": settings(),
        "generator": generator(),
        "data": data(),
        "plan": plan(),
        "probe": probe_block(),
        "health": health(),
        "summary": summary(),
        "probe_series": probe_series(),
        "margin": margin(),
        "finding": finding(),
        **evidence_defs(),
        "collapse": collapse(),
        "layer": layer(),
        "own_discriminator": own_discriminator(),
        **remedy_defs(),
        "repeats": repeats(),
        "baseline": baseline(),
        "checkpoint": checkpoint(),
        "run_log": run_log(),
        "run": run(),
        "ranking": ranking(),
    }
    return {
        "$schema": DRAFT,
        "$id": "urn:gandoctor:schema:report:1",
        "title": REPORT_SCHEMA,
        "$comment": "Generated by schema/build.py: edit that, then run python schema/build.py.",
        **top,
        "$defs": defs,
    }


# --- preflight ---------------------------------------------------------------------------

PREFLIGHT_CHECKS = (
    "data shape", "value range", "NaN/Inf", "uses z", "discriminator",
    "gradient flow: dead layers", "gradient flow: layer balance", "train/eval mode",
    "batch of 1", "short probe",
)  # fmt: skip


def slug(name: str) -> str:
    """A check's name as a $defs key: JSON pointers cannot hold its "/" or spaces as such."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def preflight_evidence() -> dict[str, Schema]:
    """Each check's evidence ({} where it was skipped or has none)."""
    empty = {"type": "object", "maxProperties": 0, "description": "No evidence."}
    layer_facts = obj(
        "One layer's gradient at initialisation (one measurement).",
        {
            "layer": string("The owning module's name."),
            "type": string("The owning module's class."),
            "parameters": integer("Parameter elements the layer owns."),
            "minimax": figure("Its minimax gradient norm"),
            "nonsat": figure("Its -log D gradient norm"),
            "nonsat_rms": figure("Its -log D gradient per weight: norm / sqrt(parameters)"),
        },
    )
    flow = {
        "discriminator": enum(("user", "probe"), "The D the gradients went through."),
        "layers": array(layer_facts, "Every layer's gradient at initialisation."),
    }
    summary_props = summary()["properties"]
    return {
        "data shape": obj(
            "The stored data's channels and size against one generated sample.",
            {
                "data": string("The stored data in words."),
                "generator_output": array({"type": "integer"}, "One generated sample's shape."),
                "compatible": boolean(
                    "False when the data cannot be converted at all; present on failures."
                ),
            },
            optional=("compatible",),
        ),
        "value range": obj(
            "The generator's range against the data's.",
            {
                "data_range": ref("range", "The range the data are scaled to."),
                "range_source": enum(
                    ("option", "architecture", "observed", "default"),
                    "Where that range came from.",
                ),
                "final_layer_bound": {
                    "anyOf": [{"$ref": "#/$defs/range"}, {"type": "null"}],
                    "description": "The final Tanh/Sigmoid's bound; null without one.",
                },
                "outputs_at_init": pair(
                    {"type": ["number", "null"]}, "Generated values' [min, max] now."
                ),
                "stored_data_range": ref("range", "The range the stored values are in."),
                "data_kind": string("How the data are stored (image folder, npy, npz, ...)."),
            },
        ),
        "NaN/Inf": obj(
            "NaN/Inf in the weights and outputs.",
            {
                "nonfinite_parameters": integer("NaN/Inf elements in the weights and buffers."),
                "nonfinite_output_share": number("Share of output values that are NaN/Inf."),
            },
        ),
        "uses z": obj(
            "Whether the samples vary with z.",
            {
                "spread_ratio": figure("Generated spread across z / the real data's"),
                "output_spread": figure("Generated samples' mean per-feature std"),
                "real_spread": figure("Held-out reals' mean per-feature std"),
                "threshold": number("ignores_z_ratio."),
            },
        ),
        "discriminator": empty,
        "gradient flow: dead layers": {
            "anyOf": [
                obj(
                    "Gradient flow at initialisation.",
                    {
                        **flow,
                        "zero_at_initialisation": array(
                            {"type": "string"},
                            "Layers without gradient at initialisation that get one after "
                            "one optimiser step (behind a zero-initialised gate).",
                        ),
                    },
                    optional=("zero_at_initialisation",),
                ),
                empty,
            ],
            "description": "The layers' gradients, or nothing when skipped.",
        },
        "gradient flow: layer balance": {
            "anyOf": [
                obj(
                    "Gradient flow at initialisation, with the spread across layers.",
                    {
                        **flow,
                        "spread_decades": number(
                            f"{DECADES}: log10(largest / smallest per-weight gradient)."
                        ),
                    },
                    optional=("spread_decades",),
                ),
                empty,
            ],
            "description": "The layers' gradients and their spread, or nothing when skipped.",
        },
        "train/eval mode": {
            "anyOf": [
                obj(
                    "Train- against eval-mode outputs.",
                    {
                        "train_eval_difference": figure(
                            "||G_train(z) - G_eval(z)|| / ||G_eval(z)||"
                        ),
                        "calibration_batches": integer(
                            "Train-mode batches averaged into the BatchNorm statistics first "
                            "(0 for a checkpoint)."
                        ),
                        "zero_momentum_layers": integer("BatchNorm layers with momentum 0."),
                    },
                ),
                empty,
            ],
            "description": "The difference, or nothing without BatchNorm/dropout.",
        },
        "batch of 1": {
            "anyOf": [
                obj(
                    "Which model failed on a batch of one.",
                    {"model": enum(("generator", "discriminator"), "The model that failed.")},
                ),
                empty,
            ],
            "description": "The failing model, or nothing when both run.",
        },
        "short probe": {
            "anyOf": [
                obj(
                    "The short probe's summary.",
                    {
                        "stop_reason": string("Why the probe stopped."),
                        "seconds": number("Its wall time in seconds."),
                        **summary_props,
                    },
                ),
                empty,
            ],
            "description": "The short probe's figures, or nothing when skipped or broken.",
        },
    }


def preflight_schema() -> Schema:
    evidence = preflight_evidence()
    names = {f"check_{slug(name)}": schema for name, schema in evidence.items()}
    check = obj(
        "One row of the preflight table.",
        {
            "check": {
                "type": "string",
                "anyOf": [
                    {"enum": list(PREFLIGHT_CHECKS)},
                    {"pattern": "^probe: (?:" + "|".join(str(c) for c in FindingCode) + ")$"},
                ],
                "description": "The check: one of the static checks, or probe: CODE for a "
                "finding of the short probe.",
            },
            "status": enum(
                Status,
                "pass, warn, fail, or skip (not run: an earlier check made it impossible).",
            ),
            "reason": string("One line with the numbers behind the status."),
            "evidence": {"type": "object", "description": "The figures behind the status."},
        },
    )
    check["allOf"] = [
        {
            "if": {"properties": {"check": {"const": name}}, "required": ["check"]},
            "then": {"properties": {"evidence": {"$ref": f"#/$defs/check_{slug(name)}"}}},
        }
        for name in evidence
    ] + [
        {
            "if": {"properties": {"check": {"const": f"probe: {code}"}}, "required": ["check"]},
            "then": {
                "properties": {
                    "evidence": {"$ref": f"#/$defs/evidence_{code}"},
                }
            },
        }
        for code in FindingCode
    ]
    probe_settings = settings()
    probe_settings["description"] = (
        "The short probe's settings (gandoctor.config.ProbeConfig), as given."
    )
    top = obj(
        "A gandoctor preflight report (gandoctor preflight --json).",
        {
            "schema": {"const": PREFLIGHT_SCHEMA, "description": "The report's schema id."},
            "version": string("gandoctor's version that wrote the report."),
            "status": enum(
                Status, "The worst status among the checks (skip < pass < warn < fail)."
            ),
            "exit_code": {
                "type": "integer",
                "enum": [0, 1],
                "description": "1 when a check failed, else 0 (warnings pass).",
            },
            "seconds": number("Wall time of the preflight in seconds."),
            "generator": ref("generator", "The generator checked."),
            "data": obj(
                "The real data: as stored, and as read for the generator where they fit it.",
                {
                    "stored": obj(
                        "The data as stored, before conversion (preflight.rawdata.RawData).",
                        {
                            "kind": string(
                                "How they are stored: image folder, zip, lmdb, npy or npz."
                            ),
                            "channels": optional_integer(
                                "Channels per sample (the most common); null for vectors."
                            ),
                            "size": {
                                "anyOf": [
                                    pair({"type": "integer"}, "(height, width)."),
                                    {"type": "null"},
                                ],
                                "description": "(height, width), the most common; null for "
                                "vectors.",
                            },
                            "features": optional_integer("Values per sample of vector data."),
                            "value_range": pair(
                                {"type": "number"}, "The range the stored values are in."
                            ),
                            "description": string("The stored data in words."),
                            "gray_rgb": boolean("Colour images with equal channels in every file."),
                        },
                    ),
                    **{k: v for k, v in data()["properties"].items()},
                },
                optional=tuple(data()["properties"]),
                dependentRequired={
                    "source": [k for k in data()["required"] if k != "source"],
                },
            ),
            "settings": obj(
                "Preflight's settings (gandoctor.config.PreflightConfig) and --disc-kwargs.",
                {
                    "probe": probe_settings,
                    "calibration_batches": integer(
                        "Train-mode batches averaged into an untrained generator's BatchNorm "
                        "statistics before the modes are compared."
                    ),
                    "raw_files": integer("Image files read to describe the stored data."),
                    "disc_kwargs": open_object("Keyword arguments of --disc."),
                },
            ),
            "checks": array({"$ref": "#/$defs/check"}, "The checks, in the order run."),
        },
    )
    defs = {
        **vocabulary(),
        "thresholds": thresholds(),
        "generator": generator(
            {"discriminator": string("The D the gradients went through: --disc, or probe.")}
        ),
        "check": check,
        **names,
        **evidence_defs(severity=True),
        "collapse": collapse(),
    }
    return {
        "$schema": DRAFT,
        "$id": "urn:gandoctor:schema:preflight:1",
        "title": PREFLIGHT_SCHEMA,
        "$comment": "Generated by schema/build.py: edit that, then run python schema/build.py.",
        **top,
        "$defs": defs,
    }


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    REPORT_FILE.write_text(render(report_schema()), encoding="utf-8")
    PREFLIGHT_FILE.write_text(render(preflight_schema()), encoding="utf-8")
    print(f"wrote {REPORT_FILE.name} and {PREFLIGHT_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
