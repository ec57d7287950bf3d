#!/usr/bin/env bash
# The model toolchain, one step at a time or all at once:
#   models/train/pipeline.sh STEP [options]     STEP: dataset|train|quantize|evaluate|anomaly|package|report|all
# Options (defaults reproduce models/defect-demo):
#   --from DIR        train on your own images: DIR/<class>/*.png, one folder per class, 'ok' for good parts
#   --good-only       an anomaly package only, trained on the good parts ('ok'); no classifier
#                     (defect folders, if any, are only evaluated on)
#   --synthetic N     else: N parts rendered by the synthetic line (default 3000)
#   --seed S          line seed, split, training and calibration seed (default 1)
#   --name NAME       package name (default defect-demo)
#   --out DIR         package folder (default models/NAME)
#   --work DIR        intermediate files (default data/model-build/NAME)
#   --epochs N        at most N training epochs (default 40; early stopping usually ends sooner)
#   --size WxH        model input (default 160x120: a 2 px scratch on a 640x480 frame stays visible)
#   --anomaly-epochs N  anomaly head training epochs (default 30)
#   --target-fr R     false-reject rate the anomaly threshold is chosen for on good validation parts (default 0.005)
# The anomaly head learns from good parts only: for --from DIR those of DIR/ok, else 1500 good parts of
# another line seed; two more unseen seeds with novel defect kinds (never trained on) are evaluated on.
# Beside a classifier it is a Gaussian of the classifier's features; with --good-only a net trained
# from scratch on synthetic anomalies pasted into the good parts (--anomaly-epochs).
# Needs the tools' system packages: scripts/setup.sh --tools.
set -euo pipefail
cd "$(dirname "$0")/../.."

step="${1:-}"
case "$step" in dataset|train|quantize|evaluate|anomaly|package|report|all) shift ;; *) sed -n '2,22p' "$0" >&2; exit 64 ;; esac
from="" synthetic=3000 seed=1 name=defect-demo out="" work="" epochs=40 size=160x120 good_only=0
anomaly_epochs=30 target_fr=0.005 anomaly_parts=1500 eval_parts=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --good-only) good_only=1; shift; continue ;;
    --from) from="$2" ;; --synthetic) synthetic="$2" ;; --seed) seed="$2" ;; --name) name="$2" ;;
    --out) out="$2" ;; --work) work="$2" ;; --epochs) epochs="$2" ;; --size) size="$2" ;;
    --anomaly-epochs) anomaly_epochs="$2" ;; --target-fr) target_fr="$2" ;;
    --anomaly-parts) anomaly_parts="$2" ;; --eval-parts) eval_parts="$2" ;;
    *) echo "pipeline: unknown option '$1'" >&2; exit 64 ;;
  esac
  shift 2
done
out="${out:-models/$name}"
work="${work:-data/model-build/$name}"
data="$work/dataset"
model="$work/model"
anomaly="$work/anomaly"
# The anomaly head's good parts: a folder's own, else another seed of the line.
adata="$data"
[ -z "$from" ] && adata="$work/anomaly-dataset"
# Unseen line seeds with novel defect kinds, evaluated on only (synthetic line).
sets=""
[ -z "$from" ] && sets="$work/eval-seed$((seed + 100)),$work/eval-seed$((seed + 101))"
# Debian's torch and onnx live in the system interpreter, not in a pyenv or venv one.
py=/usr/bin/python3
say() { printf '\n== %s\n' "$*" >&2; }

run_dataset() {
  say "dataset → $data"
  if [ -n "$from" ]; then
    node dist/models/train/export-dataset.js --out "$data" --from "$from" --seed "$seed" --size "$size"
  else
    node dist/models/train/export-dataset.js --out "$data" --synthetic "$synthetic" --seed "$seed" --size "$size"
    node dist/models/train/export-dataset.js --out "$adata" --synthetic "$anomaly_parts" --defect-rate 0 --seed $((seed + 1000)) --size "$size"
    for s in ${sets//,/ }; do
      node dist/models/train/export-dataset.js --out "$s" --synthetic "$eval_parts" --seed "${s##*eval-seed}" --size "$size" \
        --defect-rate 0.5 --novel all --novel-rate 0.3 --evaluation
    done
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
run_anomaly() {
  say "anomaly head → $anomaly"
  # Beside a classifier: a Gaussian of its own features (fitted in seconds);
  # good parts only: a net trained from scratch on synthetic anomalies.
  if [ "$good_only" = 0 ]; then
    "$py" models/train/gaussian_anomaly.py --data "$adata" --classifier "$model" --out "$anomaly" --seed "$seed"
  else
    "$py" models/train/train_anomaly.py --data "$adata" --out "$anomaly" --seed "$seed" --epochs "$anomaly_epochs"
  fi
  local heads=(--model "anomaly_float=$anomaly/anomaly.onnx" --model "anomaly_int8=$anomaly/anomaly.int8.onnx")
  local classifier=()
  if [ "$good_only" = 0 ]; then
    heads=(--model "float=$model/model.onnx" --model "int8=$model/model.int8.onnx" "${heads[@]}")
    classifier=(--classifier "$model")
  fi
  node dist/models/train/run-onnx.js --data "$adata" --split val --rounds 0 --out "$anomaly/onnxruntime-val.json" \
    --model "anomaly_float=$anomaly/anomaly.onnx" --model "anomaly_int8=$anomaly/anomaly.int8.onnx" --reference "anomaly_float=$anomaly/reference.json"
  # Latency of every model side by side, on the held-out good parts.
  node dist/models/train/run-onnx.js --data "$adata" --out "$anomaly/onnxruntime.json" "${heads[@]}"
  for s in ${sets//,/ }; do
    node dist/models/train/run-onnx.js --data "$s" --rounds 0 --out "$anomaly/onnxruntime-$(basename "$s").json" "${heads[@]}"
  done
  "$py" models/train/evaluate_anomaly.py --anomaly "$anomaly" --anomaly-data "$adata" --data "$data" --sets "$sets" \
    --target-fr "$target_fr" "${classifier[@]}"
}
run_package() {
  say "package → $out"
  local how="npm run model:all"
  [ -n "$from" ] && how="npm run model:all -- --from $from --name $name"
  [ "$good_only" = 1 ] && how="$how --good-only"
  local classifier=(--model "$model")
  [ "$good_only" = 1 ] && classifier=()
  node dist/models/train/package.js "${classifier[@]}" --anomaly "$anomaly" --anomaly-data "$adata" --sets "$sets" --data "$data" \
    --out "$out" --name "$name" --reproduce "$how"
}
run_report() {
  say "report → $out/report.html"
  local classifier=(--model "$model" --data "$data")
  [ "$good_only" = 1 ] && classifier=()
  "$py" models/train/report.py "${classifier[@]}" --anomaly "$anomaly" --anomaly-data "$adata" --sets "$sets" --out "$out"
}

if [ "$step" = all ]; then
  run_dataset
  [ "$good_only" = 0 ] && { run_train; run_quantize; run_evaluate; }
  run_anomaly; run_package; run_report
else
  "run_$step"
fi
