#!/usr/bin/env bash
# The model toolchain, one step at a time or all at once:
#   models/train/pipeline.sh STEP [options]     STEP: dataset|train|quantize|evaluate|package|all
# Options (defaults reproduce models/defect-demo):
#   --from DIR        train on your own images: DIR/<class>/*.png, one folder per class, 'ok' for good parts
#   --synthetic N     else: N parts rendered by the synthetic line (default 3000)
#   --seed S          line seed, split, training and calibration seed (default 1)
#   --name NAME       package name (default defect-demo)
#   --out DIR         package folder (default models/NAME)
#   --work DIR        intermediate files (default data/model-build/NAME)
#   --epochs N        at most N training epochs (default 40; early stopping usually ends sooner)
#   --size WxH        model input (default 160x120: a 2 px scratch on a 640x480 frame stays visible)
# Needs the tools' system packages: scripts/setup.sh --tools.
set -euo pipefail
cd "$(dirname "$0")/../.."

step="${1:-}"
case "$step" in dataset|train|quantize|evaluate|package|all) shift ;; *) sed -n '2,14p' "$0" >&2; exit 64 ;; esac
from="" synthetic=3000 seed=1 name=defect-demo out="" work="" epochs=40 size=160x120
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="$2" ;; --synthetic) synthetic="$2" ;; --seed) seed="$2" ;; --name) name="$2" ;;
    --out) out="$2" ;; --work) work="$2" ;; --epochs) epochs="$2" ;; --size) size="$2" ;;
    *) echo "pipeline: unknown option '$1'" >&2; exit 64 ;;
  esac
  shift 2
done
out="${out:-models/$name}"
work="${work:-data/model-build/$name}"
data="$work/dataset"
model="$work/model"
# Debian's torch and onnx live in the system interpreter, not in a pyenv or venv one.
py=/usr/bin/python3
say() { printf '\n== %s\n' "$*" >&2; }

run_dataset() {
  say "dataset → $data"
  if [ -n "$from" ]; then
    node dist/models/train/export-dataset.js --out "$data" --from "$from" --seed "$seed" --size "$size"
  else
    node dist/models/train/export-dataset.js --out "$data" --synthetic "$synthetic" --seed "$seed" --size "$size"
  fi
}
run_train() {
  say "train → $model"
  "$py" models/train/train.py --data "$data" --out "$model" --seed "$seed" --epochs "$epochs"
  node dist/models/train/check-tfjs.js --model "$model/tfjs" --reference "$model/reference.json"
}
run_quantize() {
  say "quantize → $model/model.int8.onnx"
  "$py" models/train/quantize.py --data "$data" --model "$model" --seed "$seed"
}
run_evaluate() {
  say "evaluate float and int8 through onnxruntime-node"
  node dist/models/train/run-onnx.js --data "$data" --split val --rounds 0 --out "$model/onnxruntime-val.json" \
    --model "float=$model/model.onnx" --model "int8=$model/model.int8.onnx"
  node dist/models/train/run-onnx.js --data "$data" --out "$model/onnxruntime.json" \
    --model "float=$model/model.onnx" --model "int8=$model/model.int8.onnx" --reference "float=$model/reference.json"
  "$py" models/train/evaluate.py --model "$model"
}
run_package() {
  say "package → $out"
  local how="npm run model:all"
  [ -n "$from" ] && how="npm run model:all -- --from $from --name $name"
  node dist/models/train/package.js --model "$model" --data "$data" --out "$out" --name "$name" --reproduce "$how"
}

if [ "$step" = all ]; then
  run_dataset; run_train; run_quantize; run_evaluate; run_package
else
  "run_$step"
fi
