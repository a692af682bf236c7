use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use visage::nn::espcn::*;
fn time<F: FnMut()>(name: &str, mut f: F) {
    for _ in 0..5 {
        f();
    }
    let t = std::time::Instant::now();
    for _ in 0..50 {
        f();
    }
    println!(
        "{name}: {:.2} ms",
        t.elapsed().as_secs_f64() * 1000.0 / 50.0
    );
}
fn main() {
    let dev = Device::Cpu;
    let map = VarMap::new();
    let net = Espcn::new(
        EspcnConfig::x4(),
        VarBuilder::from_varmap(&map, DType::F32, &dev),
    )
    .unwrap();
    let img =
        image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 9]));
    let lr = Tensor::rand(0f32, 1f32, (1, 3, 32, 32), &dev).unwrap();
    time("full", || {
        net.upscale_image(&img, &dev).unwrap();
    });
    time("residual", || {
        net.residual(&lr).unwrap();
    });
    time("bicubic", || {
        image::imageops::resize(&img, 128, 128, image::imageops::FilterType::CatmullRom);
    });
    let fast = visage::nn::espcn_fast::FastEspcn::new(&net).unwrap();
    time("fast", || {
        fast.upscale_image(&img).unwrap();
    });
    println!("threads {}", candle_core::utils::get_num_threads());
}
#[allow(dead_code)]
fn unused() {}
