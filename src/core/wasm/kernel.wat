;; shoal's WebAssembly SIMD kernel: the linear algebra of backpropagation on float32, four lanes at
;; a time. Activations and costs stay in TypeScript (they are O(neurons), this is O(weights)).
;;
;; Weights are stored transposed and padded ("kernel layout"): layer l's matrix is n_in rows of
;; `np` floats, row k holding w_jk for every neuron j (np = n_out rounded up to 4, pads are 0).
;; Then both the forward pass and the weight gradient walk whole rows — one per non-zero input —
;; with f32x4 operations, and the ~80% zero pixels of MNIST are skipped exactly.
;; All pointers are byte offsets into the shared memory; `np` counts floats.
(module
  (import "env" "memory" (memory 1 65536 shared))

;; Writes the positions (i32) and values (f32) of the non-zero x[0..n) to idx and val; returns how many.
  (func (export "gather") (param $x i32) (param $n i32) (param $idx i32) (param $val i32) (result i32)
    (local $k i32) (local $count i32) (local $v f32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $v (f32.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
        (if (f32.ne (local.get $v) (f32.const 0))
          (then
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $count) (i32.const 2))) (local.get $k))
            (f32.store (i32.add (local.get $val) (i32.shl (local.get $count) (i32.const 2))) (local.get $v))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $count))

  ;; z^l = w^l a^(l−1) + b^l, as z = b + Σ_t val[t] · row idx[t] of the transposed weights. z is
  ;; built 16 floats at a time in four registers (a sum kept in memory would make every row wait on
  ;; the previous row's store); each lane still adds the rows in order t = 0, 1, …
  (func (export "forward") (param $wt i32) (param $b i32) (param $idx i32) (param $val i32) (param $count i32)
                           (param $z i32) (param $np i32)
    (local $j i32) (local $end i32) (local $t i32) (local $row i32) (local $s v128)
    (local $z0 v128) (local $z1 v128) (local $z2 v128) (local $z3 v128)
    (local.set $end (i32.shl (local.get $np) (i32.const 2)))
    (block $blocksdone
      (loop $blocks
        (br_if $blocksdone (i32.gt_u (i32.add (local.get $j) (i32.const 64)) (local.get $end)))
        (local.set $z0 (v128.load offset=0 (i32.add (local.get $b) (local.get $j))))
        (local.set $z1 (v128.load offset=16 (i32.add (local.get $b) (local.get $j))))
        (local.set $z2 (v128.load offset=32 (i32.add (local.get $b) (local.get $j))))
        (local.set $z3 (v128.load offset=48 (i32.add (local.get $b) (local.get $j))))
        (local.set $t (i32.const 0))
        (block $rowsdone
          (loop $rows
            (br_if $rowsdone (i32.ge_u (local.get $t) (local.get $count)))
            (local.set $row (i32.add (i32.add (local.get $wt) (local.get $j))
              (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))) (local.get $end))))
            (local.set $s (f32x4.splat (f32.load (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 2))))))
            (local.set $z0 (f32x4.add (local.get $z0) (f32x4.mul (local.get $s) (v128.load offset=0 (local.get $row)))))
            (local.set $z1 (f32x4.add (local.get $z1) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $row)))))
            (local.set $z2 (f32x4.add (local.get $z2) (f32x4.mul (local.get $s) (v128.load offset=32 (local.get $row)))))
            (local.set $z3 (f32x4.add (local.get $z3) (f32x4.mul (local.get $s) (v128.load offset=48 (local.get $row)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $rows)))
        (v128.store offset=0 (i32.add (local.get $z) (local.get $j)) (local.get $z0))
        (v128.store offset=16 (i32.add (local.get $z) (local.get $j)) (local.get $z1))
        (v128.store offset=32 (i32.add (local.get $z) (local.get $j)) (local.get $z2))
        (v128.store offset=48 (i32.add (local.get $z) (local.get $j)) (local.get $z3))
        (local.set $j (i32.add (local.get $j) (i32.const 64)))
        (br $blocks)))
    ;; the last 4, 8 or 12 floats (np is a multiple of 4), one register at a time
    (block $done
      (loop $lanes
        (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
        (local.set $z0 (v128.load (i32.add (local.get $b) (local.get $j))))
        (local.set $t (i32.const 0))
        (block $rowsdone
          (loop $rows
            (br_if $rowsdone (i32.ge_u (local.get $t) (local.get $count)))
            (local.set $row (i32.add (i32.add (local.get $wt) (local.get $j))
              (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))) (local.get $end))))
            (local.set $z0 (f32x4.add (local.get $z0)
              (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 2)))))
                         (v128.load (local.get $row)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $rows)))
        (v128.store (i32.add (local.get $z) (local.get $j)) (local.get $z0))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $lanes))))

  ;; BP3 and BP4: ∂C/∂w_jk += a_k δ_j as row idx[t] += val[t] · δ of the transposed gradient, and, if
  ;; $bias is not 0, ∂C/∂b += δ (a thread that owns only some rows of a layer may not own its biases).
  (func $accumulate (param $gt i32) (param $gb i32) (param $idx i32) (param $val i32) (param $count i32)
                              (param $delta i32) (param $np i32) (param $bias i32)
    (local $j i32) (local $end i32) (local $t i32) (local $row i32) (local $s v128)
    (local.set $end (i32.shl (local.get $np) (i32.const 2)))
    (if (i32.eqz (local.get $bias)) (then (local.set $j (local.get $end))))
    (block $biased
      (loop $bias
        (br_if $biased (i32.ge_u (local.get $j) (local.get $end)))
        (v128.store (i32.add (local.get $gb) (local.get $j))
          (f32x4.add (v128.load (i32.add (local.get $gb) (local.get $j))) (v128.load (i32.add (local.get $delta) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $bias)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $t) (local.get $count)))
        (local.set $row (i32.add (local.get $gt)
          (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))) (local.get $end))))
        (local.set $s (f32x4.splat (f32.load (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 2))))))
        (local.set $j (i32.const 0))
        (block $rowdone
          (loop $lanes
            (br_if $rowdone (i32.ge_u (local.get $j) (local.get $end)))
            (v128.store (i32.add (local.get $row) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $row) (local.get $j)))
                         (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $delta) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $lanes)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $rows))))

;; The first t < n whose position (the i32 at idx + 4t; positions ascend) is ≥ k.
  (func $lowerBound (param $idx i32) (param $n i32) (param $k i32) (result i32)
    (local $lo i32) (local $hi i32) (local $mid i32)
    (local.set $hi (local.get $n))
    (block $found
      (loop $halve
        (br_if $found (i32.ge_u (local.get $lo) (local.get $hi)))
        (local.set $mid (i32.shr_u (i32.add (local.get $lo) (local.get $hi)) (i32.const 1)))
        (if (i32.lt_s (i32.load (i32.add (local.get $idx) (i32.shl (local.get $mid) (i32.const 2)))) (local.get $k))
          (then (local.set $lo (i32.add (local.get $mid) (i32.const 1))))
          (else (local.set $hi (local.get $mid))))
        (br $halve)))
    (local.get $lo))

  ;; BP3 and BP4 of a mini-batch for one thread's rows [from, end) of one layer (and its biases if
  ;; $bias): for each of `count` example slots (`stride` bytes apart from $slots), in order, add its
  ;; contribution with $accumulate. δ of the layer is at byte $delta of a slot; its inputs are a^(l−1)
  ;; at byte $prev of the slot or, for layer 1 ($prev = −1), the example's non-zero inputs, whose
  ;; positions, values and count are the slot's first three i32s.
  (func (export "accumulateBatch") (param $g i32) (param $gb i32) (param $slots i32) (param $stride i32)
        (param $count i32) (param $delta i32) (param $prev i32) (param $from i32) (param $end i32)
        (param $identity i32) (param $np i32) (param $bias i32)
    (local $s i32) (local $slot i32) (local $idx i32) (local $n i32) (local $first i32) (local $stop i32)
    (local.set $slot (local.get $slots))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $s) (local.get $count)))
        (if (i32.lt_s (local.get $prev) (i32.const 0))
          (then
            (local.set $idx (i32.load (local.get $slot)))
            (local.set $n (i32.load offset=8 (local.get $slot)))
            (local.set $first (call $lowerBound (local.get $idx) (local.get $n) (local.get $from)))
            (local.set $stop (call $lowerBound (local.get $idx) (local.get $n) (local.get $end)))
            (call $accumulate (local.get $g) (local.get $gb)
              (i32.add (local.get $idx) (i32.shl (local.get $first) (i32.const 2)))
              (i32.add (i32.load offset=4 (local.get $slot)) (i32.shl (local.get $first) (i32.const 2)))
              (i32.sub (local.get $stop) (local.get $first))
              (i32.add (local.get $slot) (local.get $delta)) (local.get $np) (local.get $bias)))
          (else
            (call $accumulate (local.get $g) (local.get $gb)
              (i32.add (local.get $identity) (i32.shl (local.get $from) (i32.const 2)))
              (i32.add (i32.add (local.get $slot) (local.get $prev)) (i32.shl (local.get $from) (i32.const 2)))
              (select (i32.sub (local.get $end) (local.get $from)) (i32.const 0) (i32.gt_s (local.get $end) (local.get $from)))
              (i32.add (local.get $slot) (local.get $delta)) (local.get $np) (local.get $bias))))
        (local.set $slot (i32.add (local.get $slot) (local.get $stride)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $each))))

  ;; BP2's product: out[k] = ((w^l)^T δ^l)_k = row k of the transposed weights · δ, for k < n.
  (func (export "backward") (param $wt i32) (param $n i32) (param $delta i32) (param $out i32) (param $np i32)
    (local $k i32) (local $j i32) (local $end i32) (local $row i32) (local $s v128)
    (local.set $end (i32.shl (local.get $np) (i32.const 2)))
    (local.set $row (local.get $wt))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $s (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $rowdone
          (loop $lanes
            (br_if $rowdone (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $s (f32x4.add (local.get $s)
              (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $j))) (v128.load (i32.add (local.get $delta) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $lanes)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
          (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
                   (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))
        (local.set $row (i32.add (local.get $row) (local.get $end)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))

;; The SGD step over `rows` rows of `np` floats: w −= scale · g, then g = 0, where g is this thread's
  ;; sum of the batch's gradients. Rows whose g is all zero (first-layer rows of pixels that are 0 in
  ;; every example of the batch) are not written at all: the other threads' cached copies stay valid.
  ;; Returns 1 if any new weight is NaN or infinite (for the divergence guard), else 0.
  (func (export "update") (param $params i32) (param $grads i32) (param $rows i32) (param $np i32) (param $scale f32)
                          (result i32)
    (local $end i32) (local $r i32) (local $j i32) (local $any v128) (local $s v128) (local $w v128) (local $bad v128)
    (local.set $s (f32x4.splat (local.get $scale)))
    (local.set $end (i32.shl (local.get $np) (i32.const 2)))
    (block $done
      (loop $rowsloop
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $any (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $scanned
          (loop $scan
            (br_if $scanned (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $any (v128.or (local.get $any) (v128.load (i32.add (local.get $grads) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $scan)))
        ;; any bit set: a non-zero gradient (−0 too, harmlessly)
        (if (v128.any_true (local.get $any))
          (then
            (local.set $j (i32.const 0))
            (block $updated
              (loop $lanes
                (br_if $updated (i32.ge_u (local.get $j) (local.get $end)))
                (local.set $w (f32x4.sub (v128.load (i32.add (local.get $params) (local.get $j)))
                                         (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $grads) (local.get $j))))))
                (v128.store (i32.add (local.get $params) (local.get $j)) (local.get $w))
                (v128.store (i32.add (local.get $grads) (local.get $j)) (v128.const i32x4 0 0 0 0))
                ;; w − w is 0 for a finite w and NaN for ±∞ or NaN, which is the only value not equal to itself
                (local.set $bad (v128.or (local.get $bad)
                  (f32x4.ne (f32x4.sub (local.get $w) (local.get $w)) (v128.const f32x4 0 0 0 0))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $lanes)))))
        (local.set $params (i32.add (local.get $params) (local.get $end)))
        (local.set $grads (i32.add (local.get $grads) (local.get $end)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsloop)))
    (v128.any_true (local.get $bad)))
)
