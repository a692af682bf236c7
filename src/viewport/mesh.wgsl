// Mesh shader of the Visage viewport: lit clay, albedo (vertex colour or texture), depth
// colormap, and an optional wireframe overlay drawn from per-corner barycentric coordinates.
// Outputs linear colour; the sRGB render target encodes it.

struct Uniforms {
    clip_from_world: mat4x4<f32>,
    eye: vec4<f32>,
    cam_right: vec4<f32>,
    cam_up: vec4<f32>,
    cam_forward: vec4<f32>,
    // x = near distance, y = far distance of the depth colormap; z = wire width in pixels.
    params: vec4<f32>,
    // x = shading (0 lit, 1 colour, 2 depth colormap, 3 grey depth), y = wireframe on, z = has texture, w = has colours.
    mode: vec4<u32>,
};

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(1) @binding(0) var albedo_tex: texture_2d<f32>;
@group(1) @binding(1) var albedo_sampler: sampler;

struct VsIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) color: vec3<f32>,
    @location(3) uv: vec2<f32>,
    @location(4) bary: vec3<f32>,
};

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) color: vec3<f32>,
    @location(3) uv: vec2<f32>,
    @location(4) bary: vec3<f32>,
};

@vertex
fn vs_main(v: VsIn) -> VsOut {
    var out: VsOut;
    out.clip = u.clip_from_world * vec4<f32>(v.position, 1.0);
    out.world = v.position;
    out.normal = v.normal;
    out.color = v.color;
    out.uv = v.uv;
    out.bary = v.bary;
    return out;
}

// A camera-relative direction: x right, y up, z towards the viewer.
fn light_dir(x: f32, y: f32, z: f32) -> vec3<f32> {
    return normalize(x * u.cam_right.xyz + y * u.cam_up.xyz - z * u.cam_forward.xyz);
}

// Key (warm, upper left), fill (cool, lower right), rim (from behind), hemisphere ambient and a
// Blinn-Phong highlight on the key: small bumps catch the key and rim lights.
fn three_point(n: vec3<f32>, view: vec3<f32>, albedo: vec3<f32>) -> vec3<f32> {
    let key = light_dir(-0.6, 0.7, 0.8);
    let fill = light_dir(0.8, -0.2, 0.6);
    let rim = light_dir(0.0, 0.5, -1.0);
    let key_c = vec3<f32>(1.0, 0.93, 0.85) * 1.1;
    let fill_c = vec3<f32>(0.7, 0.8, 1.0) * 0.22;
    let sky = 0.5 + 0.5 * dot(n, u.cam_up.xyz);
    let ambient = mix(vec3<f32>(0.015, 0.013, 0.012), vec3<f32>(0.06, 0.065, 0.075), sky);
    var c = albedo * (ambient + key_c * max(dot(n, key), 0.0) + fill_c * max(dot(n, fill), 0.0));
    let h = normalize(key + view);
    c += key_c * 0.18 * pow(max(dot(n, h), 0.0), 40.0);
    let fresnel = pow(1.0 - max(dot(n, view), 0.0), 3.0);
    c += vec3<f32>(0.35, 0.4, 0.5) * fresnel * max(dot(n, rim) + 0.4, 0.0);
    return c;
}

// A compact polynomial fit of the Turbo colormap, t in [0, 1] (near = red, far = blue).
fn turbo(t_in: f32) -> vec3<f32> {
    let t = clamp(t_in, 0.0, 1.0);
    let r = 0.13572138 + t * (4.6153926 + t * (-42.66032258 + t * (132.13108234 + t * (-152.94239396 + t * 59.28637943))));
    let g = 0.09140261 + t * (2.19418839 + t * (4.84296658 + t * (-14.18503333 + t * (4.27729857 + t * 2.82956604))));
    let b = 0.1066733 + t * (12.64194608 + t * (-60.58204836 + t * (110.36276771 + t * (-89.90310912 + t * 27.34824973))));
    return clamp(vec3<f32>(r, g, b), vec3<f32>(0.0), vec3<f32>(1.0));
}

// The exact sRGB decoding, so that a value written to the sRGB target comes back as stored.
fn srgb_to_linear(c_in: vec3<f32>) -> vec3<f32> {
    let c = clamp(c_in, vec3<f32>(0.0), vec3<f32>(1.0));
    let low = c / 12.92;
    let high = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(high, low, c <= vec3<f32>(0.04045));
}

@fragment
fn fs_main(in: VsOut, @builtin(front_facing) front: bool) -> @location(0) vec4<f32> {
    let view = normalize(u.eye.xyz - in.world);
    var n = normalize(in.normal);
    // Open surfaces (a face mask) are seen from both sides: light the side facing the camera.
    if dot(n, view) < 0.0 {
        n = -n;
    }
    var albedo = vec3<f32>(0.78, 0.74, 0.70);
    if u.mode.z != 0u {
        albedo = textureSample(albedo_tex, albedo_sampler, in.uv).rgb;
    } else if u.mode.w != 0u {
        albedo = srgb_to_linear(in.color);
    }
    var c: vec3<f32>;
    let t = (distance(u.eye.xyz, in.world) - u.params.x) / max(u.params.y - u.params.x, 1e-6);
    if u.mode.x == 2u {
        c = srgb_to_linear(turbo(1.0 - t));
    } else if u.mode.x == 3u {
        // Grey depth map: near = white, far = black, stored bytes linear in distance.
        c = srgb_to_linear(vec3<f32>(clamp(1.0 - t, 0.0, 1.0)));
    } else if u.mode.x == 1u {
        let key = max(dot(n, light_dir(-0.4, 0.5, 0.9)), 0.0);
        c = albedo * (0.55 + 0.5 * key);
    } else {
        c = three_point(n, view, vec3<f32>(0.42, 0.38, 0.35));
    }
    if u.mode.y != 0u {
        let width = fwidth(in.bary) * u.params.z;
        let edge = smoothstep(vec3<f32>(0.0), width, in.bary);
        let on_edge = 1.0 - min(min(edge.x, edge.y), edge.z);
        c = mix(c, vec3<f32>(0.004, 0.03, 0.06), on_edge * 0.7);
    }
    return vec4<f32>(c, 1.0);
}
