;; shoal's WebAssembly SIMD kernels: the linear algebra of backpropagation, assembled twice from
;; this one text, once per element type: on float32, four lanes a vector (f32x4), with the
;; sigmoid, its derivative and BP1 with the quadratic cost in wasm too (Nielsen's default network,
;; whole in wasm); on float64, two lanes a vector (f64x2), where every O(neurons) step (activations,
;; σ', BP1, the cost) stays in TypeScript, so a float64 run makes the very operations of backprop.ts
;; and sgd.ts in the same order, and has their bits. Other activations and costs stay in TypeScript
;; on float32 too (they are O(neurons), this is O(weights)).
;;
;; Weights are stored transposed and padded ("kernel layout"): layer l's matrix is n_in rows of
;; `np` floats, row k holding w_jk for every neuron j (np = n_out rounded up to 4, pads are 0).
;; Then both the forward pass and the weight gradient walk whole rows — one per non-zero input —
;; with SIMD operations, and the ~80% zero pixels of MNIST are skipped exactly. Each lane adds its
;; terms in the order the TypeScript kernel does, so the vectors change no bit.
;; All pointers are byte offsets into the shared memory; `np` counts floats (of either type).
;;
;; This file is a template, expanded by template.ts before it is assembled (`npm run build:wasm`):
;; placeholders name the vector type, the element type and log2 of its bytes; some parts are
;; marked as one kernel's only; each unrolled part is written once and repeated for 8, 4 and 1
;; vector sums; and the offsets of the example slots and row lists are named from abi.ts, the one
;; table the TypeScript side uses too.
(module
  (import "env" "memory" (memory 1 65536 shared))

;; Writes the positions (i32) and values ({f}) of the non-zero x[0..n) ({f}) to idx and val; returns how many.
  (func (export "gather") (param $x i32) (param $n i32) (param $idx i32) (param $val i32) (result i32)
    (local $k i32) (local $count i32) (local $v {f})
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $v ({f}.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const {shift})))))
        (if ({f}.ne (local.get $v) ({f}.const 0))
          (then
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $count) (i32.const 2))) (local.get $k))
            ({f}.store (i32.add (local.get $val) (i32.shl (local.get $count) (i32.const {shift}))) (local.get $v))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $count))

  ;; z^l = w^l a^(l−1) + b^l, as z = b + Σ_t val[t] · row idx[t] of the transposed weights. z is
  ;; built up to 32 floats at a time in registers (a sum kept in memory would make every row wait on
  ;; the previous row's store; eight independent sums keep the adds from waiting on each other);
  ;; each lane still adds the rows in order t = 0, 1, …, so the width changes no bit.
  (func (export "forward") (param $wt i32) (param $b i32) (param $idx i32) (param $val i32) (param $count i32)
                           (param $z i32) (param $np i32)
    (local $j i32) (local $end i32) (local $t i32) (local $row i32) (local $s v128)
    (local $z0 v128) (local $z1 v128) (local $z2 v128) (local $z3 v128) (local $z4 v128) (local $z5 v128) (local $z6 v128) (local $z7 v128)
    (local.set $end (i32.shl (local.get $np) (i32.const {shift})))
    ;; @unroll 8 4:once 1
    (block $done
      ({loop} $next
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const {16*W})) (local.get $end)))
        @lane (local.set $z{i} (v128.load offset={16*i} (i32.add (local.get $b) (local.get $j))))
        (local.set $t (i32.const 0))
        (block $rowsdone
          (loop $rows
            (br_if $rowsdone (i32.ge_u (local.get $t) (local.get $count)))
            (local.set $row (i32.add (i32.add (local.get $wt) (local.get $j))
              (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))) (local.get $end))))
            (local.set $s ({v}.splat ({f}.load (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const {shift}))))))
            @lane (local.set $z{i} ({v}.add (local.get $z{i}) ({v}.mul (local.get $s) (v128.load offset={16*i} (local.get $row)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $rows)))
        @lane (v128.store offset={16*i} (i32.add (local.get $z) (local.get $j)) (local.get $z{i}))
        (local.set $j (i32.add (local.get $j) (i32.const {16*W})))
        {again}))
    ;; @end
  )

  ;; @if float32
  ;; a = σ(z) = 1 / (1 + e^(−z)) for the n floats at $z, into $a. Computed in double precision, two
  ;; at a time, as the TypeScript kernel does with Math.exp, then rounded to float32: the two agree
  ;; to the last bit but for exp's last-bit differences that survive rounding (none in the tests).
  ;; e^x: x = k ln2 + r with |r| ≤ ln2/2 (ln2 split in two so k·ln2_hi is exact), e^r by its Taylor
  ;; series to r^13 (the rest < 2^−56), and 2^k written straight into the exponent bits. x is held
  ;; in [−708, 709], where 2^k is a normal double: beyond, σ is 0 or 1 in float32 all the same. A
  ;; NaN stays NaN (min and max keep it), so the divergence guard still sees it.
  (func (export "sigmoid") (param $z i32) (param $a i32) (param $n i32)
    (local $i i32) (local $at i32) (local $x v128) (local $k v128) (local $r v128) (local $p v128)
    (local $r2 v128) (local $r4 v128)
    (local $q1 v128) (local $q2 v128) (local $q3 v128) (local $q4 v128) (local $q5 v128) (local $q6 v128)
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        ;; z[i], z[i + 1] (past n, a pad: read, never written)
        (local.set $x (f64x2.neg (f64x2.promote_low_f32x4
          (v128.load64_zero (i32.add (local.get $z) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $x (f64x2.min (f64x2.max (local.get $x) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 709))))
        (local.set $k (f64x2.nearest (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634)))))
        (local.set $r (f64x2.sub
          (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 6.93147180369123816490e-01))))
          (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.90821492927058770002e-10)))))
        ;; e^r = Σ_k r^k/k! for k ≤ 13 by Estrin's scheme: pairs c_2i + c_2i+1·r, joined by r², r⁴ and
        ;; r⁸, so the longest chain is 3 multiplies and 4 adds instead of Horner's 13 of each (the
        ;; loop was bound by that chain). Constants: 1/k!.
        (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
        (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
        (local.set $p (f64x2.add (f64x2.splat (f64.const 1.0)) (local.get $r)))  ;; 1/0! + r/1!
        (local.set $q1 (f64x2.add (f64x2.splat (f64.const 0.5))
          (f64x2.mul (local.get $r) (f64x2.splat (f64.const 0.16666666666666666)))))
        (local.set $q2 (f64x2.add (f64x2.splat (f64.const 0.041666666666666664))
          (f64x2.mul (local.get $r) (f64x2.splat (f64.const 0.008333333333333333)))))
        (local.set $q3 (f64x2.add (f64x2.splat (f64.const 0.001388888888888889))
          (f64x2.mul (local.get $r) (f64x2.splat (f64.const 0.0001984126984126984)))))
        (local.set $q4 (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-05))
          (f64x2.mul (local.get $r) (f64x2.splat (f64.const 2.7557319223985893e-06)))))
        (local.set $q5 (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-07))
          (f64x2.mul (local.get $r) (f64x2.splat (f64.const 2.505210838544172e-08)))))
        (local.set $q6 (f64x2.add (f64x2.splat (f64.const 2.08767569878681e-09))
          (f64x2.mul (local.get $r) (f64x2.splat (f64.const 1.6059043836821613e-10)))))
        (local.set $p (f64x2.add (local.get $p) (f64x2.mul (local.get $q1) (local.get $r2))))   ;; terms 0–3
        (local.set $q2 (f64x2.add (local.get $q2) (f64x2.mul (local.get $q3) (local.get $r2))))  ;; 4–7, over r⁴
        (local.set $q4 (f64x2.add (local.get $q4) (f64x2.mul (local.get $q5) (local.get $r2))))  ;; 8–11, over r⁸
        (local.set $q4 (f64x2.add (local.get $q4) (f64x2.mul (local.get $q6) (local.get $r4))))  ;; 8–13, over r⁸
        (local.set $p (f64x2.add (local.get $p) (f64x2.mul (local.get $q2) (local.get $r4))))    ;; 0–7
        (local.set $p (f64x2.add (local.get $p)
          (f64x2.mul (local.get $q4) (f64x2.mul (local.get $r4) (local.get $r4)))))  ;; 0–13
        ;; · 2^k, then 1 / (1 + e^x)
        (local.set $p (f64x2.mul (local.get $p)
          (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i64x2.splat (i64.const 1023)))
                     (i32.const 52))))
        (local.set $p (f32x4.demote_f64x2_zero
          (f64x2.div (f64x2.splat (f64.const 1)) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $p)))))
        (local.set $at (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))
        (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $n))
          (then (v128.store64_lane 0 (local.get $at) (local.get $p)))
          (else (v128.store32_lane 0 (local.get $at) (local.get $p))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs))))
  ;; @endif

  ;; BP3 and BP4: ∂C/∂w_jk += a_k δ_j as row idx[t] += val[t] · δ of the transposed gradient, and, if
  ;; $bias is not 0, ∂C/∂b += δ (a thread that owns only some rows of a layer may not own its biases).
  (func $accumulate (param $gt i32) (param $gb i32) (param $idx i32) (param $val i32) (param $count i32)
                              (param $delta i32) (param $np i32) (param $bias i32)
    (local $j i32) (local $end i32) (local $t i32) (local $row i32) (local $s v128)
    (local.set $end (i32.shl (local.get $np) (i32.const {shift})))
    (if (i32.eqz (local.get $bias)) (then (local.set $j (local.get $end))))
    (block $biased
      (loop $bias
        (br_if $biased (i32.ge_u (local.get $j) (local.get $end)))
        (v128.store (i32.add (local.get $gb) (local.get $j))
          ({v}.add (v128.load (i32.add (local.get $gb) (local.get $j))) (v128.load (i32.add (local.get $delta) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $bias)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $t) (local.get $count)))
        (local.set $row (i32.add (local.get $gt)
          (i32.mul (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))) (local.get $end))))
        (local.set $s ({v}.splat ({f}.load (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const {shift}))))))
        (local.set $j (i32.const 0))
        (block $rowdone
          (loop $lanes
            (br_if $rowdone (i32.ge_u (local.get $j) (local.get $end)))
            (v128.store (i32.add (local.get $row) (local.get $j))
              ({v}.add (v128.load (i32.add (local.get $row) (local.get $j)))
                         ({v}.mul (local.get $s) (v128.load (i32.add (local.get $delta) (local.get $j))))))
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
            (local.set $idx (i32.load offset={slotPositions} (local.get $slot)))
            (local.set $n (i32.load offset={slotCount} (local.get $slot)))
            (local.set $first (call $lowerBound (local.get $idx) (local.get $n) (local.get $from)))
            (local.set $stop (call $lowerBound (local.get $idx) (local.get $n) (local.get $end)))
            (call $accumulate (local.get $g) (local.get $gb)
              (i32.add (local.get $idx) (i32.shl (local.get $first) (i32.const 2)))
              (i32.add (i32.load offset={slotValues} (local.get $slot)) (i32.shl (local.get $first) (i32.const {shift})))
              (i32.sub (local.get $stop) (local.get $first))
              (i32.add (local.get $slot) (local.get $delta)) (local.get $np) (local.get $bias)))
          (else
            (call $accumulate (local.get $g) (local.get $gb)
              (i32.add (local.get $identity) (i32.shl (local.get $from) (i32.const 2)))
              (i32.add (i32.add (local.get $slot) (local.get $prev)) (i32.shl (local.get $from) (i32.const {shift})))
              (select (i32.sub (local.get $end) (local.get $from)) (i32.const 0) (i32.gt_s (local.get $end) (local.get $from)))
              (i32.add (local.get $slot) (local.get $delta)) (local.get $np) (local.get $bias))))
        (local.set $slot (i32.add (local.get $slot) (local.get $stride)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $each))))

  ;; @if float32
  ;; BP2's product: out[k] = ((w^l)^T δ^l)_k = row k of the transposed weights · δ, for k < n. If $a
  ;; is not 0 (activations are in example slots, never at byte 0), the sigmoid's σ'(z) = a(1 − a) of
  ;; the n activations there is applied too (BP2's "⊙ σ'(z^(l−1))"), in double precision on the
  ;; float32 product, as the TypeScript kernel does it.
  (func (export "backward") (param $wt i32) (param $n i32) (param $delta i32) (param $out i32) (param $np i32) (param $a i32)
    (local $k i32) (local $j i32) (local $end i32) (local $row i32) (local $s v128) (local $sum f32)
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
        (local.set $sum
          (f32.add (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
                   (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))
        (if (local.get $a)
          (then (local.set $sum (call $timesSigmoidDerivative (local.get $sum)
            (f32.load (i32.add (local.get $a) (i32.shl (local.get $k) (i32.const 2))))))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2))) (local.get $sum))
        (local.set $row (i32.add (local.get $row) (local.get $end)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))

  ;; v ⊙ σ'(z) for a sigmoid, given a = σ(z): v · (a(1 − a)) in double precision, rounded to float32 —
  ;; the very operations of the TypeScript sigmoid's scaleByDerivative on float32 arrays.
  (func $timesSigmoidDerivative (param $v f32) (param $a f32) (result f32)
    (f32.demote_f64 (f64.mul (f64.promote_f32 (local.get $v))
      (f64.mul (f64.promote_f32 (local.get $a)) (f64.sub (f64.const 1) (f64.promote_f32 (local.get $a)))))))

  ;; BP1 for a sigmoid output layer and the quadratic cost, and the cost: δ_j = (a_j − y_j) ⊙ σ'(z_j)
  ;; into $delta for j < n (a: float32, y: float64 targets), returning C = ½ Σ_j (a_j − y_j)², summed
  ;; in order in double precision. The same operations as the TypeScript quadratic cost.
  (func (export "quadraticSigmoidOutput") (param $a i32) (param $y i32) (param $delta i32) (param $n i32) (result f64)
    (local $j i32) (local $aj f32) (local $d f64) (local $sum f64)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $aj (f32.load (i32.add (local.get $a) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $d (f64.sub (f64.promote_f32 (local.get $aj)) (f64.load (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 3))))))
        (local.set $sum (f64.add (local.get $sum) (f64.mul (local.get $d) (local.get $d))))
        (f32.store (i32.add (local.get $delta) (i32.shl (local.get $j) (i32.const 2)))
          (call $timesSigmoidDerivative (f32.demote_f64 (local.get $d)) (local.get $aj)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each)))
    (f64.mul (f64.const 0.5) (local.get $sum)))
  ;; @endif

  ;; @if float64
  ;; BP2's product: out[k] = ((w^l)^T δ^l)_k = row k of the transposed weights · δ, for k < n, each a
  ;; sum over j = 0, 1, … in order from 0, as backprop.ts makes it (a vector of lanes would add in
  ;; another order); σ' is applied by the caller, so $a must be 0. O(n_l · n_(l+1)), small beside
  ;; layer 1's rows.
  (func (export "backward") (param $wt i32) (param $n i32) (param $delta i32) (param $out i32) (param $np i32) (param $a i32)
    (local $k i32) (local $j i32) (local $end i32) (local $row i32) (local $sum f64)
    (if (local.get $a) (then (unreachable)))
    (local.set $end (i32.shl (local.get $np) (i32.const 3)))
    (local.set $row (local.get $wt))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $sum (f64.const 0))
        (local.set $j (i32.const 0))
        (block $rowdone
          (loop $each
            (br_if $rowdone (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $sum (f64.add (local.get $sum)
              (f64.mul (f64.load (i32.add (local.get $row) (local.get $j))) (f64.load (i32.add (local.get $delta) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $each)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 3))) (local.get $sum))
        (local.set $row (i32.add (local.get $row) (local.get $end)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))
  ;; @endif

  ;; The SGD step of one row of `np` floats from a mini-batch, without writing its gradient anywhere:
  ;; g = Σ val · δ over the list of entries that starts at byte $list — each entry is 12 bytes: the
  ;; byte offset of a δ, an f32 value, and the next entry's byte offset (0 ends the list) — added in
  ;; list order from 0, the very additions accumulate makes; then row ← d · row − s · g as update
  ;; does (d: L2's weight decay 1 − ηλ/n, or 1, which leaves the row's bits as row − s · g), so the
  ;; new row has the same bits as accumulate + update. With momentum ($vgap ≠ 0: the row's velocities
  ;; are $vgap bytes after it; $mu holds μ) it is v ← μ · v − s · g, row ← d · row + v instead.
  ;; g is built in registers, up to 32 floats at a time. Returns 1 if a new weight is NaN or
  ;; infinite, else 0.
  (func $stepRow (param $row i32) (param $list i32) (param $np i32) (param $s v128) (param $dv v128) (param $vgap i32) (param $mu v128)
                 (result i32)
    (local $j i32) (local $end i32) (local $p i32) (local $d i32) (local $v v128) (local $w v128) (local $bad v128) (local $at i32)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128) (local $g4 v128) (local $g5 v128) (local $g6 v128) (local $g7 v128)
    (local.set $end (i32.shl (local.get $np) (i32.const {shift})))
    ;; 32 floats at a time (eight independent sums, so each example's eight products overlap), then
    ;; 16, then 4 (np is a multiple of 4; after the 32-wide loop the 16-wide part runs at most once)
    ;; @unroll 8 4:once 1
    (block $done
      ({loop} $next
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const {16*W})) (local.get $end)))
        @lane (local.set $g{i} (v128.const i32x4 0 0 0 0))
        (local.set $p (local.get $list))
        (block $listdone
          (loop $each
            (br_if $listdone (i32.eqz (local.get $p)))
            (local.set $d (i32.add (i32.load offset={entryDelta} (local.get $p)) (local.get $j)))
            (local.set $v ({v}.splat ({f}.load offset={entryValue} (local.get $p))))
            @lane (local.set $g{i} ({v}.add (local.get $g{i}) ({v}.mul (local.get $v) (v128.load offset={16*i} (local.get $d)))))
            (local.set $p (i32.load offset={entryNext} (local.get $p)))
            (br $each)))
        (local.set $at (i32.add (local.get $row) (local.get $j)))
        (if (local.get $vgap)
          (then
            @lane (local.set $v ({v}.sub ({v}.mul (local.get $mu) (v128.load offset={16*i} (i32.add (local.get $at) (local.get $vgap)))) ({v}.mul (local.get $s) (local.get $g{i}))))
            @lane (v128.store offset={16*i} (i32.add (local.get $at) (local.get $vgap)) (local.get $v))
            @lane (local.set $w ({v}.add ({v}.mul (local.get $dv) (v128.load offset={16*i} (local.get $at))) (local.get $v)))
            @lane (v128.store offset={16*i} (local.get $at) (local.get $w))
            @lane (local.set $bad (v128.or (local.get $bad) ({v}.ne ({v}.sub (local.get $w) (local.get $w)) (v128.const i32x4 0 0 0 0))))
          )
          (else
            @lane (local.set $w ({v}.sub ({v}.mul (local.get $dv) (v128.load offset={16*i} (local.get $at))) ({v}.mul (local.get $s) (local.get $g{i}))))
            @lane (v128.store offset={16*i} (local.get $at) (local.get $w))
            @lane (local.set $bad (v128.or (local.get $bad) ({v}.ne ({v}.sub (local.get $w) (local.get $w)) (v128.const i32x4 0 0 0 0))))
          ))
        (local.set $j (i32.add (local.get $j) (i32.const {16*W})))
        {again}))
    ;; @end
    (v128.any_true (local.get $bad)))

  ;; The step of a row no example of the batch touched (its gradient is 0): L2's decay alone,
  ;; row ← d · row, or with momentum v ← μ · v, row ← d · row + v ($stepRow's bits: μ · v − s · 0 is
  ;; μ · v). Returns 1 if a new weight is NaN or infinite, else 0.
  (func $untouchedRow (param $row i32) (param $np i32) (param $dv v128) (param $vgap i32) (param $mu v128) (result i32)
    (local $j i32) (local $end i32) (local $w v128) (local $v v128) (local $bad v128) (local $at i32)
    (local.set $end (i32.shl (local.get $np) (i32.const {shift})))
    (block $done
      (loop $lanes
        (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
        (local.set $at (i32.add (local.get $row) (local.get $j)))
        (local.set $w ({v}.mul (local.get $dv) (v128.load (local.get $at))))
        (if (local.get $vgap)
          (then
            (local.set $v ({v}.mul (local.get $mu) (v128.load (i32.add (local.get $at) (local.get $vgap)))))
            (v128.store (i32.add (local.get $at) (local.get $vgap)) (local.get $v))
            (local.set $w ({v}.add (local.get $w) (local.get $v)))))
        (v128.store (local.get $at) (local.get $w))
        (local.set $bad (v128.or (local.get $bad) ({v}.ne ({v}.sub (local.get $w) (local.get $w)) (v128.const i32x4 0 0 0 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $lanes)))
    (v128.any_true (local.get $bad)))

  ;; Writes a list for $stepRow at $list of every one of `count` slots in slot order: δ at byte
  ;; $delta of the slot, value $v. Returns $list.
  (func $slotList (param $list i32) (param $slots i32) (param $stride i32) (param $count i32) (param $delta i32) (param $v {f})
                  (result i32)
    (local $e i32) (local $s i32)
    (local.set $e (local.get $list))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $s) (local.get $count)))
        (i32.store offset={entryDelta} (local.get $e) (i32.add (i32.add (local.get $slots) (i32.mul (local.get $s) (local.get $stride))) (local.get $delta)))
        ({f}.store offset={entryValue} (local.get $e) (local.get $v))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        ;; the next entry, or 0 after the last
        (i32.store offset={entryNext} (local.get $e)
          (select (i32.add (local.get $e) (i32.const {entryBytes})) (i32.const 0) (i32.lt_u (local.get $s) (local.get $count))))
        (local.set $e (i32.add (local.get $e) (i32.const {entryBytes})))
        (br $each)))
    (local.get $list))

  ;; BP3, BP4 and the SGD step of a whole mini-batch for one thread's rows [from, end) of one layer
  ;; (and its biases if $bias), with no gradient buffer: each row's examples are listed, in slot
  ;; order, and applied with $stepRow. Slots, $delta and $prev are as for accumulateBatch; $list is
  ;; private memory for 12-byte entries. Layer 1 ($prev = −1) first sorts the batch's non-zero inputs
  ;; in [from, end) by row: walking the slots from last to first and putting each entry at the head
  ;; of its row's list (heads at $heads, 4 bytes per input, all 0 between calls) leaves every list in
  ;; slot order; a row no example touches is not written at all. A hidden layer's rows all take every
  ;; slot, so one list serves them, each row's inputs written into it in turn. Returns 1 if a new
  ;; weight is not finite.
  (func (export "stepLayer") (param $wt i32) (param $wb i32) (param $slots i32) (param $stride i32)
        (param $count i32) (param $delta i32) (param $prev i32) (param $from i32) (param $end i32)
        (param $np i32) (param $bias i32) (param $scale {f}) (param $decay {f}) (param $list i32) (param $heads i32)
        (param $vgap i32) (param $mu {f}) (result i32)
    (local $s i32) (local $slot i32) (local $e i32) (local $t i32) (local $stop i32) (local $k i32) (local $h i32)
    (local $idx i32) (local $val i32) (local $n i32) (local $d i32) (local $bad i32) (local $rowBytes i32) (local $sv v128) (local $dv v128)
    (local $muv v128)
    (local.set $sv ({v}.splat (local.get $scale)))
    (local.set $dv ({v}.splat (local.get $decay)))
    (local.set $muv ({v}.splat (local.get $mu)))
    (local.set $rowBytes (i32.shl (local.get $np) (i32.const {shift})))
    (local.set $e (local.get $list))
    (if (i32.lt_s (local.get $prev) (i32.const 0))
      (then
        (local.set $s (local.get $count))
        (block $sorted
          (loop $slotsdown
            (br_if $sorted (i32.eqz (local.get $s)))
            (local.set $s (i32.sub (local.get $s) (i32.const 1)))
            (local.set $slot (i32.add (local.get $slots) (i32.mul (local.get $s) (local.get $stride))))
            (local.set $idx (i32.load offset={slotPositions} (local.get $slot)))
            (local.set $val (i32.load offset={slotValues} (local.get $slot)))
            (local.set $n (i32.load offset={slotCount} (local.get $slot)))
            (local.set $t (call $lowerBound (local.get $idx) (local.get $n) (local.get $from)))
            (local.set $stop (call $lowerBound (local.get $idx) (local.get $n) (local.get $end)))
            (local.set $d (i32.add (local.get $slot) (local.get $delta)))
            (block $entered
              (loop $inputs
                (br_if $entered (i32.ge_u (local.get $t) (local.get $stop)))
                (local.set $h (i32.add (local.get $heads)
                  (i32.shl (i32.sub (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))) (local.get $from)) (i32.const 2))))
                (i32.store offset={entryDelta} (local.get $e) (local.get $d))
                ({f}.store offset={entryValue} (local.get $e) ({f}.load (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const {shift})))))
                (i32.store offset={entryNext} (local.get $e) (i32.load (local.get $h)))
                (i32.store (local.get $h) (local.get $e))
                (local.set $e (i32.add (local.get $e) (i32.const {entryBytes})))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $inputs)))
            (br $slotsdown)))
        (local.set $k (local.get $from))
        (local.set $h (local.get $heads))
        (block $rowsdone
          (loop $rows
            (br_if $rowsdone (i32.ge_s (local.get $k) (local.get $end)))
            (if (i32.load (local.get $h))
              (then
                (local.set $bad (i32.or (local.get $bad)
                  (call $stepRow (i32.add (local.get $wt) (i32.mul (local.get $k) (local.get $rowBytes))) (i32.load (local.get $h))
                    (local.get $np) (local.get $sv) (local.get $dv) (local.get $vgap) (local.get $muv))))
                (i32.store (local.get $h) (i32.const 0)))
              ;; a row no example touched still decays under L2, and moves by its velocity under momentum
              (else (if (i32.or ({f}.ne (local.get $decay) ({f}.const 1)) (i32.ne (local.get $vgap) (i32.const 0)))
                (then (local.set $bad (i32.or (local.get $bad)
                  (call $untouchedRow (i32.add (local.get $wt) (i32.mul (local.get $k) (local.get $rowBytes))) (local.get $np) (local.get $dv)
                    (local.get $vgap) (local.get $muv))))))))
            (local.set $h (i32.add (local.get $h) (i32.const 4)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $rows))))
      (else
        ;; a hidden layer's inputs are dense: every slot adds to every row, so one list serves
        ;; them all, with each row's inputs a_k^(l−1) written into it in turn
        (drop (call $slotList (local.get $list) (local.get $slots) (local.get $stride) (local.get $count) (local.get $delta) ({f}.const 0)))
        (local.set $k (local.get $from))
        (block $rowsdone
          (loop $rows
            (br_if $rowsdone (i32.ge_s (local.get $k) (local.get $end)))
            (local.set $e (local.get $list))
            (local.set $slot (i32.add (i32.add (local.get $slots) (local.get $prev)) (i32.shl (local.get $k) (i32.const {shift}))))
            (local.set $s (i32.const 0))
            (block $valued
              (loop $values
                (br_if $valued (i32.ge_u (local.get $s) (local.get $count)))
                ({f}.store offset={entryValue} (local.get $e) ({f}.load (local.get $slot)))
                (local.set $e (i32.add (local.get $e) (i32.const {entryBytes})))
                (local.set $slot (i32.add (local.get $slot) (local.get $stride)))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $values)))
            (if (local.get $count)
              (then
                (local.set $bad (i32.or (local.get $bad)
                  (call $stepRow (i32.add (local.get $wt) (i32.mul (local.get $k) (local.get $rowBytes))) (local.get $list)
                    (local.get $np) (local.get $sv) (local.get $dv) (local.get $vgap) (local.get $muv))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $rows)))))
    ;; BP3: the biases' gradient is Σ δ, i.e. every slot with value 1 (1 · δ is δ exactly)
    (if (i32.and (i32.ne (local.get $bias) (i32.const 0)) (i32.ne (local.get $count) (i32.const 0)))
      (then
        (local.set $bad (i32.or (local.get $bad)
          (call $stepRow (local.get $wb)
            (call $slotList (local.get $list) (local.get $slots) (local.get $stride) (local.get $count) (local.get $delta) ({f}.const 1))
            (local.get $np) (local.get $sv) ({v}.splat ({f}.const 1)) (local.get $vgap) (local.get $muv))))))  ;; biases do not decay
    (local.get $bad))

  ;; The SGD step over `rows` rows of `np` floats: w ← d · w − scale · g, then g = 0, where g is this
  ;; thread's sum of the batch's gradients and d L2's decay (1: none, and then w's bits are w − scale · g).
  ;; Without decay, rows whose g is all zero (first-layer rows of pixels that are 0 in every example
  ;; of the batch) are not written at all: the other threads' cached copies stay valid. With momentum
  ;; ($vgap ≠ 0: velocities $vgap bytes after the parameters) every row takes v ← μ · v − scale · g,
  ;; w ← d · w + v.
  ;; Returns 1 if any new weight is NaN or infinite (for the divergence guard), else 0.
  (func (export "update") (param $params i32) (param $grads i32) (param $rows i32) (param $np i32) (param $scale {f})
                          (param $decay {f}) (param $vgap i32) (param $mu {f}) (result i32)
    (local $end i32) (local $r i32) (local $j i32) (local $any v128) (local $s v128) (local $w v128) (local $bad v128) (local $dv v128)
    (local $v v128) (local $muv v128) (local $at i32)
    (local.set $s ({v}.splat (local.get $scale)))
    (local.set $dv ({v}.splat (local.get $decay)))
    (local.set $muv ({v}.splat (local.get $mu)))
    (local.set $end (i32.shl (local.get $np) (i32.const {shift})))
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
        (if (i32.or (i32.or (v128.any_true (local.get $any)) ({f}.ne (local.get $decay) ({f}.const 1))) (i32.ne (local.get $vgap) (i32.const 0)))
          (then
            (local.set $j (i32.const 0))
            (block $updated
              (loop $lanes
                (br_if $updated (i32.ge_u (local.get $j) (local.get $end)))
                (local.set $at (i32.add (local.get $params) (local.get $j)))
                (if (local.get $vgap)
                  (then
                    (local.set $v ({v}.sub ({v}.mul (local.get $muv) (v128.load (i32.add (local.get $at) (local.get $vgap))))
                                             ({v}.mul (local.get $s) (v128.load (i32.add (local.get $grads) (local.get $j))))))
                    (v128.store (i32.add (local.get $at) (local.get $vgap)) (local.get $v))
                    (local.set $w ({v}.add ({v}.mul (local.get $dv) (v128.load (local.get $at))) (local.get $v))))
                  (else
                    (local.set $w ({v}.sub ({v}.mul (local.get $dv) (v128.load (local.get $at)))
                                             ({v}.mul (local.get $s) (v128.load (i32.add (local.get $grads) (local.get $j))))))))
                (v128.store (local.get $at) (local.get $w))
                (v128.store (i32.add (local.get $grads) (local.get $j)) (v128.const i32x4 0 0 0 0))
                ;; w − w is 0 for a finite w and NaN for ±∞ or NaN, which is the only value not equal to itself
                (local.set $bad (v128.or (local.get $bad)
                  ({v}.ne ({v}.sub (local.get $w) (local.get $w)) (v128.const i32x4 0 0 0 0))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $lanes)))))
        (local.set $params (i32.add (local.get $params) (local.get $end)))
        (local.set $grads (i32.add (local.get $grads) (local.get $end)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsloop)))
    (v128.any_true (local.get $bad)))
)
