#!/usr/bin/env bash
# One GPU session's checks (run from the repository root on a CUDA machine):
#   1. the compiled models' benchmark on CUDA (agreement, throughput) at max_len 10, 32 and 128;
#   2. the paper profile (docs/experiments.md) on a few tasks with both predicted outcomes;
#   3. `rasp errors --heads` on the models it trained (error rate by position, attention by query-key distance);
#   4. the training benchmark on CUDA: models·steps/s of ensembles of 1-64 (benchmarks/training.py --device);
#   5. (ZHOU_SECONDS > 0) Zhou et al.'s `zhou` profile on ZHOU_TASKS.
# Results go to $OUT (default ./gpu-results). The stages' time caps (120 + 310 + 60 + 90 s) end the script in ~10 minutes;
# the report is written from whatever runs finished. Lark can come as a wheel in .whl/ (the GPU image lacks it).
set -u
OUT=${OUT:-gpu-results}
mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1
BENCH_SECONDS=${BENCH_SECONDS:-120}
PAPER_SECONDS=${PAPER_SECONDS:-310}
PAPER_TASKS=${PAPER_TASKS:-binary_majority aa_star zot_02}
PAPER_PE=${PAPER_PE:-ape,nope}
PAPER_WORKERS=${PAPER_WORKERS:-6}
PAPER_DIR=${PAPER_DIR:-/tmp/paper}
ERRORS_SECONDS=${ERRORS_SECONDS:-60}
ERRORS_ROWS=${ERRORS_ROWS:-}  # TASK:PE[:SEED] rows for `rasp errors --heads` (default: the disagreeing rows)
TRAINING_SECONDS=${TRAINING_SECONDS:-90}
TRAINING_ARGS=${TRAINING_ARGS:---tasks sort --sizes 1 4 16 64 --steps 10 --repeats 3}
ZHOU_SECONDS=${ZHOU_SECONDS:-0}  # 0: skip; the zhou profile is 20,000 steps a run at the paper's model size
ZHOU_TASKS=${ZHOU_TASKS:-count mode mode_poor}
ZHOU_DIR=${ZHOU_DIR:-/tmp/zhou}
DEVICE=${DEVICE:-cuda}
BENCH_ARGS=${BENCH_ARGS:---max-len 10 32 128 --n 1000 --no-tracr}
PAPER_ARGS=${PAPER_ARGS:---steps 20000}  # 20k of the protocol's 30k: fits a 15-minute device budget

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT/gpu.txt"

echo "== compiled models on CUDA =="
# shellcheck disable=SC2086
timeout "$BENCH_SECONDS" python3 benchmarks/compiler.py $BENCH_ARGS --device "$DEVICE" \
  2>&1 | tee "$OUT/compiler_cuda.txt"

echo "== paper profile: $PAPER_TASKS =="
# shellcheck disable=SC2086
timeout "$PAPER_SECONDS" python3 -m rasp_cli experiment $PAPER_TASKS --profile paper --pe "$PAPER_PE" $PAPER_ARGS \
  --device "$DEVICE" --workers "$PAPER_WORKERS" --out "$PAPER_DIR" 2>&1 | tee "$OUT/paper_log.txt"
python3 -m rasp_cli report "$PAPER_DIR" > /dev/null 2>&1
for f in results.jsonl report.md; do  # brought back first, in case the command is cut short after this
  [ -f "$PAPER_DIR/$f" ] && cp "$PAPER_DIR/$f" "$OUT/paper_$f"
done

echo "== where the trained models go wrong, and their heads' attention by distance =="
# The checkpoints are too big to bring back, so read them here. report.csv and the plot are rebuilt from
# results.jsonl with `rasp report` on any machine.
# shellcheck disable=SC2086
timeout "$ERRORS_SECONDS" python3 -m rasp_cli errors "$PAPER_DIR" $ERRORS_ROWS --heads 2>&1 | tee "$OUT/paper_errors.txt"
[ -f "$PAPER_DIR/errors_by_position.png" ] && cp "$PAPER_DIR/errors_by_position.png" "$OUT/paper_errors_by_position.png"
echo "== training throughput on $DEVICE (ensembles) =="
# shellcheck disable=SC2086
timeout "$TRAINING_SECONDS" python3 benchmarks/training.py --device "$DEVICE" $TRAINING_ARGS 2>&1 | tee "$OUT/training_cuda.txt"

if [ "$ZHOU_SECONDS" -gt 0 ]; then
  echo "== zhou profile: $ZHOU_TASKS =="
  # shellcheck disable=SC2086
  timeout "$ZHOU_SECONDS" python3 -m rasp_cli experiment $ZHOU_TASKS --profile zhou --device "$DEVICE" \
    --workers "$PAPER_WORKERS" --out "$ZHOU_DIR" 2>&1 | tee "$OUT/zhou_log.txt"
  python3 -m rasp_cli report "$ZHOU_DIR" > /dev/null 2>&1
  for f in results.jsonl report.md; do
    [ -f "$ZHOU_DIR/$f" ] && cp "$ZHOU_DIR/$f" "$OUT/zhou_$f"
  done
fi
ls -la "$OUT"
