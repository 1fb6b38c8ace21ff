//! The one audio format every stream of ours speaks: F32LE interleaved at
//! 48 kHz in a fixed channel layout. PipeWire's adapters convert whatever
//! the other side has into it.

use pipewire::spa::param::audio::{AudioFormat, AudioInfoRaw, MAX_CHANNELS};
use pipewire::spa::param::ParamType;
use pipewire::spa::pod::serialize::PodSerializer;
use pipewire::spa::pod::{Object, Value};
use pipewire::spa::utils::SpaTypes;

use super::layout::{Layout, RATE};

/// The serialized EnumFormat pod offering exactly `layout` at [`RATE`].
pub(crate) fn enum_format(layout: Layout) -> Vec<u8> {
    let mut info = AudioInfoRaw::new();
    info.set_format(AudioFormat::F32LE);
    info.set_rate(RATE);
    info.set_channels(u32::from(layout.channels()));
    let mut position = [0; MAX_CHANNELS];
    for (slot, id) in position.iter_mut().zip(layout.ids()) {
        *slot = id;
    }
    info.set_position(position);
    let object = Object {
        type_: SpaTypes::ObjectParamFormat.as_raw(),
        id: ParamType::EnumFormat.as_raw(),
        properties: info.into(),
    };
    PodSerializer::serialize(std::io::Cursor::new(Vec::new()), &Value::Object(object))
        // Writing a fixed object into a growable buffer cannot fail.
        .map(|(cursor, _)| cursor.into_inner())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use pipewire::spa::pod::Pod;

    use super::*;

    #[test]
    fn the_offer_parses_back_into_the_layout() {
        for channels in 1..=8 {
            let layout = Layout::new(channels).unwrap();
            let bytes = enum_format(layout);
            let pod = Pod::from_bytes(&bytes).expect("a pod");
            let mut info = AudioInfoRaw::new();
            info.parse(pod).expect("an audio format");
            assert_eq!(info.format(), AudioFormat::F32LE);
            assert_eq!(info.rate(), RATE);
            assert_eq!(info.channels(), u32::from(channels));
            let ids: Vec<u32> = layout.ids().collect();
            assert_eq!(&info.position()[..ids.len()], &ids[..]);
        }
    }
}
