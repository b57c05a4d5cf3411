#!/bin/sh
# Training experiments on ../shared/data/celeb24 (24 people, ArcFace-aligned 112x112 crops; research
# data, never copied here): train on 16 people, validate on pairs of the other 8 (seeded split).
#   1. small-facenet from scratch, semi-hard mining, 10 minutes of training;
#   2. the same with all valid triplets ("batch-all"), the same 10 minutes;
#   3. dlib's ResNet fine-tuned for 3 short epochs (stem + 3 levels frozen), then exported and scored
#      on LFW View 1 DevTest with a threshold fitted on DevTrain (before: docs/lfw-devtest.json).
# Results (summary.json, training.png, roc.png) are copied to docs/training/. Run from the repo root:
#   sh benchmarks/train_celeb24.sh
set -e
DATA=../shared/data/celeb24
LFW=../shared/data/lfw-dev
FG=.venv/bin/faceguard
OUT=runs
DOCS=docs/training
mkdir -p "$DOCS"
for miner in semihard all; do
  $FG train "$DATA" --aligned arcface112 --model small --miner "$miner" --epochs 36 --batches 40 \
    --time-limit 10 --patience 100 --out "$OUT/small-$miner"
  mkdir -p "$DOCS/small-$miner"
  cp "$OUT/small-$miner/summary.json" "$OUT/small-$miner/training.png" "$OUT/small-$miner/roc.png" "$DOCS/small-$miner/"
done
$FG train "$DATA" --aligned arcface112 --model dlib-resnet --freeze-stages 3 --epochs 3 --batches 40 \
  --p 8 --k 4 --lr 1e-5 --out "$OUT/dlib-finetune"
mkdir -p "$DOCS/dlib-finetune"
cp "$OUT/dlib-finetune/summary.json" "$OUT/dlib-finetune/training.png" "$OUT/dlib-finetune/roc.png" "$DOCS/dlib-finetune/"
$FG export "$OUT/dlib-finetune/checkpoint-last.pt" --name dlib-finetuned --flip --replace \
  --calibrate "$LFW/pairsDevTrain.txt" --root "$LFW"
$FG evaluate --model dlib-finetuned --pairs "$LFW/pairsDevTest.txt" --root "$LFW" \
  --calibrate "$LFW/pairsDevTrain.txt" --json "$DOCS/dlib-finetune/lfw-devtest.json" \
  --plot "$DOCS/dlib-finetune/lfw-devtest-roc.png"
