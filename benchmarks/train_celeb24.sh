#!/bin/sh
# Training experiments on ../shared/data/celeb24 (24 people, ArcFace-aligned 112x112 crops; research
# data, never copied here): train on 16 people, validate on pairs of the other 8 (seeded split).
#   1. small-facenet from scratch, semi-hard mining, 10 minutes of training;
#   2. the same with all valid triplets ("batch-all"), the same 10 minutes;
#   3. dlib's ResNet fine-tuned for 3 short epochs, exported and scored on LFW View 1 DevTest with a
#      threshold fitted on DevTrain, beside the unchanged weights through the same path (3a/3b below)
#      and the shipped model (docs/lfw-devtest.json).
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
# 2b. the binary-classification head instead of the triplet loss, the same schedule.
$FG train "$DATA" --aligned arcface112 --model small --loss binary --epochs 36 --batches 40 \
  --time-limit 10 --patience 100 --out "$OUT/small-binary"
mkdir -p "$DOCS/small-binary"
cp "$OUT/small-binary/summary.json" "$OUT/small-binary/training.png" "$OUT/small-binary/roc.png" "$DOCS/small-binary/"
# 3a. "before": the pretrained weights unchanged (lr 0), through the same export path (L2-normalised
#     encodings) as the fine-tuned model, so the two differ only by the training.
# 3b. "after": 3 epochs of 40 batches, stem + 4 of 5 residual levels frozen, lr 2e-6.
for run in "dlib-before --epochs 1 --batches 1 --lr 0" "dlib-finetuned --epochs 3 --batches 40 --lr 2e-6 --freeze-stages 4"; do
  set -- $run
  name=$1; shift
  $FG train "$DATA" --aligned arcface112 --model dlib-resnet --p 8 --k 4 --out "$OUT/$name" "$@"
  $FG export "$OUT/$name/checkpoint-last.pt" --name "$name" --flip --replace \
    --calibrate "$LFW/pairsDevTrain.txt" --root "$LFW"
  mkdir -p "$DOCS/$name"
  cp "$OUT/$name/summary.json" "$OUT/$name/training.png" "$OUT/$name/roc.png" "$DOCS/$name/"
  $FG evaluate --model "$name" --pairs "$LFW/pairsDevTest.txt" --root "$LFW" \
    --calibrate "$LFW/pairsDevTrain.txt" --json "$DOCS/$name/lfw-devtest.json"
done
