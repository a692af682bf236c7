//! Every method's mesh carries the photo as a UV texture: exported as OBJ + MTL + PNG, read back,
//! rendered from the front with its vertex colours removed (so only the texture can colour it),
//! the render shows the photo's colours at the face's landmarks. GLB embeds the same texture.

use candle_core::Device;
use visage::pipeline::detect::Detector;
use visage::pipeline::export::save;
use visage::pipeline::import;
use visage::pipeline::photo::Photo;
use visage::pipeline::reconstruct::{FacePick, Method, load, photo_to_mesh};
use visage::pipeline::upscale::Upscaler;
use visage::viewport::camera::{OrbitCamera, transform};
use visage::viewport::headless::HeadlessGpu;
use visage::viewport::{Shading, ViewOptions};

#[test]
fn exported_textures_show_the_face() {
    let gpu = HeadlessGpu::new().unwrap();
    let detector = Detector::new(&Device::Cpu).unwrap();
    let path = format!(
        "{}/tests/fixtures/astronaut.png",
        env!("CARGO_MANIFEST_DIR")
    );
    let photo = Photo::load(path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for method in Method::ALL {
        let net = load(method, &Device::Cpu, None).unwrap();
        let (p, result) = photo_to_mesh(
            &detector,
            net.as_ref(),
            &photo.rgb,
            FacePick::Rank(0),
            Upscaler::Bicubic,
            None,
        )
        .unwrap();
        let obj = dir.path().join(format!("{method}.obj"));
        let files = save(&result.mesh, &obj).unwrap();
        assert_eq!(files.len(), 3, "{method}: OBJ + MTL + PNG, got {files:?}");
        let mut back = import::load(&obj).unwrap();
        assert!(
            back.has_texture(),
            "{method}: the OBJ came back without its texture"
        );
        back.colors.clear();
        // A frontal, almost orthographic view of the 128 px crop.
        let camera = OrbitCamera {
            target: [64.0, 64.0, 0.0],
            yaw_deg: 0.0,
            pitch_deg: 0.0,
            distance: 5000.0,
            radius: 200.0,
            fov_y_deg: 2.0 * (64.0f32 / 5000.0).atan().to_degrees(),
        };
        let size = 256u32;
        let image = gpu
            .render(
                &back,
                &camera,
                &ViewOptions::new(Shading::Color),
                [size, size],
            )
            .unwrap();
        let clip = camera.clip_from_world(1.0);
        let m = p.face.photo_from_crop();
        let (mut diff, mut n) = (0.0f32, 0);
        for q in result.landmarks68(&p.face).into_iter().flatten().skip(17) {
            let c = transform(&clip, q);
            let (x, y) = (
                (c[0] / c[3] + 1.0) / 2.0 * size as f32,
                (1.0 - c[1] / c[3]) / 2.0 * size as f32,
            );
            let rendered = image.get_pixel(x as u32, y as u32).0;
            let at = m.apply([q[0], 128.0 - q[1]]);
            let truth = photo.rgb.get_pixel(at[0] as u32, at[1] as u32).0;
            diff += (0..3)
                .map(|k| (f32::from(rendered[k]) - f32::from(truth[k])).abs())
                .sum::<f32>()
                / 3.0;
            n += 1;
        }
        let mean = diff / n.max(1) as f32;
        assert!(n > 30, "{method}: only {n} landmarks on the mesh");
        assert!(
            mean < 30.0,
            "{method}: rendered texture differs from the photo by {mean}"
        );
        // GLB carries the same texture.
        let glb = dir.path().join(format!("{method}.glb"));
        save(&result.mesh, &glb).unwrap();
        let g = import::load(&glb).unwrap();
        assert!(
            g.has_texture() && g.texture == back.texture,
            "{method}: GLB texture"
        );
    }
}
