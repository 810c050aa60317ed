//! The kernels against candle's own `conv2d` and `max_pool2d` and their autograd, and the
//! convolution's gradient against finite differences.

use candle_core::{Device, Tensor, Var};

use super::{conv3x3, max_pool2x2};

fn rand(shape: &[usize], seed: u64) -> Vec<f32> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|i| {
            // Distinct values in [-1, 1) (ties in a pooling window would split the gradient
            // differently from candle, which shares it among equal maxima).
            let v = ((i as f64 + 1.0) * 12.9898 + seed as f64 * 78.233).sin() * 43758.5453;
            (2.0 * (v - v.floor()) - 1.0) as f32
        })
        .collect()
}

fn var(shape: &[usize], seed: u64) -> Var {
    Var::from_vec(rand(shape, seed), shape, &Device::Cpu).unwrap()
}

/// A tensor's elements, flattened.
fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

fn close(a: &Tensor, b: &Tensor, tol: f32, what: &str) {
    let (a, b) = (values(a), values(b));
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(1f32, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= tol * scale,
            "{what}[{i}]: {x} against candle's {y}"
        );
    }
}

/// candle's convolution, bias and ReLU, the reference.
fn reference(x: &Tensor, w: &Tensor, b: &Tensor, relu: bool) -> Tensor {
    let y = x
        .conv2d(w, 1, 1, 1, 1)
        .unwrap()
        .broadcast_add(&b.reshape((1, (), 1, 1)).unwrap())
        .unwrap();
    if relu {
        y.relu().unwrap()
    } else {
        y
    }
}

#[test]
fn convolution_and_its_gradients_match_candle() {
    // Odd and even sizes, one input channel (the stem), more examples than threads.
    for &(n, cin, cout, h, w) in &[
        (3, 1, 4, 5, 6),
        (5, 3, 2, 4, 4),
        (2, 4, 5, 1, 3),
        (7, 2, 3, 7, 2),
    ] {
        for relu in [true, false] {
            let x = var(&[n, cin, h, w], 1);
            let wt = var(&[cout, cin, 3, 3], 2);
            let b = var(&[cout], 3);
            let what = format!("n {n} cin {cin} cout {cout} {h}×{w} relu {relu}");
            let ours = conv3x3(&x, &wt, &b, relu).unwrap();
            let theirs = reference(&x, &wt, &b, relu);
            close(&ours, &theirs, 1e-5, &format!("{what}: output"));
            // A weighted sum, so that every output's gradient differs.
            let weights =
                Tensor::from_vec(rand(ours.dims(), 4), ours.dims(), &Device::Cpu).unwrap();
            let g1 = (ours * &weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            let g2 = (theirs * &weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            for (v, name) in [(&x, "dx"), (&wt, "dw"), (&b, "db")] {
                close(
                    g1.get(v.as_tensor()).unwrap(),
                    g2.get(v.as_tensor()).unwrap(),
                    1e-5,
                    &format!("{what}: {name}"),
                );
            }
        }
    }
}

#[test]
fn convolution_gradient_matches_finite_differences() {
    let (n, cin, cout, h, w) = (2, 2, 3, 4, 5);
    let x0 = rand(&[n, cin, h, w], 5);
    let w0 = rand(&[cout, cin, 3, 3], 6);
    let b0 = rand(&[cout], 7);
    let loss = |x: &[f32], wt: &[f32]| -> f64 {
        let dev = &Device::Cpu;
        let y = conv3x3(
            &Tensor::from_slice(x, (n, cin, h, w), dev).unwrap(),
            &Tensor::from_slice(wt, (cout, cin, 3, 3), dev).unwrap(),
            &Tensor::from_slice(&b0, cout, dev).unwrap(),
            false,
        )
        .unwrap();
        // A smooth loss: the sum of squares.
        y.sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap() as f64
    };
    let xv = Var::from_slice(&x0, (n, cin, h, w), &Device::Cpu).unwrap();
    let wv = Var::from_slice(&w0, (cout, cin, 3, 3), &Device::Cpu).unwrap();
    let bv = Tensor::from_slice(&b0, cout, &Device::Cpu).unwrap();
    let g = conv3x3(&xv, &wv, &bv, false)
        .unwrap()
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let dx = values(g.get(xv.as_tensor()).unwrap());
    let dw = values(g.get(wv.as_tensor()).unwrap());
    let eps = 1e-2f32;
    for i in (0..x0.len()).step_by(7) {
        let (mut a, mut b) = (x0.clone(), x0.clone());
        a[i] += eps;
        b[i] -= eps;
        let fd = (loss(&a, &w0) - loss(&b, &w0)) / (2.0 * eps as f64);
        assert!(
            (fd - dx[i] as f64).abs() < 1e-2 * fd.abs().max(1.0),
            "dx[{i}]: {} against {fd}",
            dx[i]
        );
    }
    for i in (0..w0.len()).step_by(5) {
        let (mut a, mut b) = (w0.clone(), w0.clone());
        a[i] += eps;
        b[i] -= eps;
        let fd = (loss(&x0, &a) - loss(&x0, &b)) / (2.0 * eps as f64);
        assert!(
            (fd - dw[i] as f64).abs() < 1e-2 * fd.abs().max(1.0),
            "dw[{i}]: {} against {fd}",
            dw[i]
        );
    }
}

#[test]
fn an_input_without_gradient_gets_none_and_wrong_shapes_are_errors() {
    let x = Tensor::from_vec(rand(&[2, 1, 3, 3], 1), (2, 1, 3, 3), &Device::Cpu).unwrap();
    let w = var(&[2, 1, 3, 3], 2);
    let b = var(&[2], 3);
    let g = conv3x3(&x, &w, &b, true)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert!(g.get(&x).is_none());
    assert!(g.get(w.as_tensor()).is_some());
    let bad = var(&[2, 3, 3, 3], 2);
    let e = conv3x3(&x, &bad, &b, true).unwrap_err().to_string();
    assert!(e.contains("do not fit"), "{e}");
}

#[test]
fn pooling_matches_candle_and_its_gradient_finite_differences() {
    // candle 0.11's own `max_pool2d` backward scales the gradient of a window's single maximum
    // by 1/4 (it multiplies by the share of maxima instead of dividing), so the gradient is
    // checked against finite differences, element by element.
    for &(n, c, h, w) in &[(2, 3, 4, 4), (3, 2, 5, 7), (1, 1, 2, 3), (4, 2, 3, 2)] {
        let x0 = rand(&[n, c, h, w], 8);
        let x = Var::from_slice(&x0, (n, c, h, w), &Device::Cpu).unwrap();
        let ours = max_pool2x2(&x).unwrap();
        let theirs = x.max_pool2d(2).unwrap();
        close(&ours, &theirs, 0.0, &format!("{n}×{c}×{h}×{w}: output"));
        if ours.elem_count() == 0 {
            continue;
        }
        let weights = Tensor::from_vec(rand(ours.dims(), 9), ours.dims(), &Device::Cpu).unwrap();
        let loss = |x: &[f32]| -> f64 {
            let t = Tensor::from_slice(x, (n, c, h, w), &Device::Cpu).unwrap();
            (max_pool2x2(&t).unwrap() * &weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap() as f64
        };
        let g = (ours * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let dx = values(g.get(x.as_tensor()).unwrap());
        let eps = 1e-4f32;
        for i in 0..x0.len() {
            let (mut a, mut b) = (x0.clone(), x0.clone());
            a[i] += eps;
            b[i] -= eps;
            let fd = (loss(&a) - loss(&b)) / (2.0 * eps as f64);
            assert!(
                (fd - dx[i] as f64).abs() < 2e-2,
                "{n}×{c}×{h}×{w}: dx[{i}] {} against {fd}",
                dx[i]
            );
        }
    }
}
