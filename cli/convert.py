"""``goftar convert`` and ``goftar labelstudio-config``: the command line of :mod:`goftar.inference.formats`."""
from __future__ import annotations

import sys
from typing import Any

from goftar.inference import formats
from goftar.inference.schema import Schema

def _convert_command(args: Any) -> int:
    try:
        report = formats.convert(args.inputs, args.output, args.from_format, args.to_format, layer=args.layer,
                         as_predictions=args.as_predictions, model_version=args.model_version,
                         accept_predictions=args.accept_predictions)
    except (formats.FormatError, OSError) as exc:
        print(f"goftar convert: error: {exc}", file=sys.stderr)
        return 2
    for note in report.notes:
        print(f"warning: {note}", file=sys.stderr)
    for p in report.problems:
        print(p, file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    return 1 if report.problems else 0


def register(subparsers: Any) -> None:
    """Add ``goftar convert INPUT... -o OUT [--from FMT] [--to FMT] [--layer ne]``."""
    names = ", ".join(formats.FORMATS)
    p = subparsers.add_parser(
        "convert",
        help="convert annotations: goftar JSONL, PEYMA/ARMAN/ParsTwiNER/CoNLL BIO, Label Studio, doccano, BRAT",
        description=(
            f"Convert annotation files. Formats: {names}. Without --from each input's format is detected; "
            "without --to the output's comes from its extension (.jsonl goftar, .json Label Studio, "
            ".conll/.txt conll, a folder BRAT). Broken records are printed and skipped; the exit status is 1 "
            "when there were any."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files (or BRAT folders) to read")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="file or folder to write")
    p.add_argument("--from", dest="from_format", metavar="FMT", help=f"input format ({names})")
    p.add_argument("--to", dest="to_format", metavar="FMT", help=f"output format ({names})")
    p.add_argument("--layer", default="ne", help="layer a BIO file holds or gets (default: ne)")
    p.add_argument("--as-predictions", action="store_true",
                   help="write Label Studio tasks with the spans as predictions (pre-annotations to correct: "
                        "model_version, per-region and task scores), not as annotations")
    p.add_argument("--model-version", metavar="NAME",
                   help="model_version of the predictions (default: each document's meta.model_version, else goftar)")
    p.add_argument("--accept-predictions", action="store_true",
                   help="reading a Label Studio export: take a task nobody annotated from its prediction "
                        "(default: skip it with a warning, so model output never becomes gold unnoticed)")
    p.set_defaults(func=_convert_command)

    c = subparsers.add_parser(
        "labelstudio-config",
        help="print the Label Studio labelling config that goftar's tasks fit",
        description="Print the Label Studio labelling config (XML) for goftar tasks: one Labels group per layer "
                    "(sector categories as SECTOR:<CATEGORY>), the relation labels. Paste it into the project's "
                    "Labeling Interface (Code view) or pass it as label_config through the API.",
    )
    c.add_argument("--schema", metavar="YAML", help="schema file (default: the shipped configs/schema.yaml)")
    c.set_defaults(func=_labelstudio_config_command)


def _labelstudio_config_command(args: Any) -> int:
    try:
        schema = Schema.from_yaml(args.schema) if args.schema else None
    except (OSError, ValueError, KeyError) as exc:
        print(f"goftar labelstudio-config: error: {args.schema}: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(formats.labelstudio_config(schema))
    return 0
