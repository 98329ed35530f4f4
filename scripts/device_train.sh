#!/usr/bin/env bash
# One GPU session: the PEYMA NER benchmark (issue 3) and the default model (issue 5), side by side.
# Run through the `device` tool with carry=[".devcarry"]; results land in $OUT.
# .devcarry holds: enc/ (the lite encoder, weights xz-compressed), ds/datasets.tar.xz (PEYMA, ARMAN),
# site/ (pure-Python packages the GPU image lacks: seqeval, datasets, dill, multiprocess).
set -u
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
mkdir -p /tmp/shim/goftar
for p in inference training configs; do ln -sfn "$PWD/$p" /tmp/shim/goftar/$p; done
export PYTHONPATH=/tmp/shim:$PWD/.devcarry/site
mkdir -p encoders/e5-small-fa-lite /tmp/ds
cp .devcarry/enc/*.json encoders/e5-small-fa-lite/
xz -dc .devcarry/enc/model.safetensors.xz > encoders/e5-small-fa-lite/model.safetensors
tar -C /tmp/ds -xJf .devcarry/ds/datasets.tar.xz
export GOFTAR_DATASETS=/tmp/ds
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo 'no GPU'
python3 -c "import datasets, seqeval, transformers, torch; print('datasets', datasets.__version__, 'transformers', transformers.__version__, 'torch', torch.__version__)"
mkdir -p $OUT/run
( python3 scripts/bench_peyma.py --encoder encoders/e5-small-fa-lite --data /tmp/ds/peyma --out /tmp/bench \
    --epochs 5 --lr 8e-5 --batch-size 32 --crf ${BENCH_ARGS:-} > /tmp/bench.log 2>&1; echo "bench rc=$?" >> /tmp/bench.log ) &
python3 -m goftar.cli train --config configs/default.yaml --mixed-precision bf16 --output-dir /tmp/default \
  ${TRAIN_ARGS:-} > /tmp/train.log 2>&1
echo "train rc=$?"
wait
tail -5 /tmp/bench.log; grep -v "it/s" /tmp/train.log | tail -25
# the checkpoint back in fp16 shards under 16 MiB each (the return limit), with its logs and metrics
python3 - <<'PY'
import os, torch
from goftar.inference.modeling import GoftarModel
m = GoftarModel.from_pretrained("/tmp/default/best")
sd = {k: v.to(torch.float16) for k, v in m.state_dict().items()}
m.save_pretrained(os.environ["OUT"] + "/model", state_dict=sd, max_shard_size="15MB")
PY
cp /tmp/default/best/tokenizer.json $OUT/model/ 2>/dev/null
tar -czf $OUT/extra.tar.gz -C /tmp default/best/metrics.json default/best/README.md default/best/tokenizer_config.json default/best/config.json train.log bench.log bench 2>/dev/null
ls -la $OUT $OUT/model
