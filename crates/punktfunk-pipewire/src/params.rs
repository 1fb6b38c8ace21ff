//! The EnumFormat we offer a producer.
//!
//! Mutter's virtual streams offer a size *range* and take whatever size the
//! consumer fixates as the virtual monitor's mode, and the largest framerate
//! (`maxFramerate`) as its refresh rate; so with `fixed_size` we offer exactly
//! one size and one rate. Without it we offer ranges with our wish as default.

use pipewire::spa::param::format::{FormatProperties, MediaSubtype, MediaType};
use pipewire::spa::param::ParamType;
use pipewire::spa::pod::serialize::PodSerializer;
use pipewire::spa::pod::{ChoiceValue, Object, Property, Value};
use pipewire::spa::sys as spa_sys;
use pipewire::spa::utils::{Choice, ChoiceEnum, ChoiceFlags, Fraction, Id, Rectangle, SpaTypes};

use crate::PixelFormat;

/// Largest size we accept when not fixed (Mutter's own limit is 16384).
const MAX_SIZE: Rectangle = Rectangle {
    width: 16384,
    height: 16384,
};

/// What to ask the producer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub width: u32,
    pub height: u32,
    pub refresh_millihz: u32,
    pub fixed_size: bool,
}

/// `millihz / 1000` in lowest terms, so Mutter sees 60/1 rather than 60000/1000.
pub(crate) fn refresh_fraction(millihz: u32) -> Fraction {
    let (mut a, mut b) = (millihz, 1000);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let gcd = a.max(1);
    Fraction {
        num: millihz / gcd,
        denom: 1000 / gcd,
    }
}

/// The serialized EnumFormat pod.
pub(crate) fn enum_format(wanted: Wanted) -> Vec<u8> {
    let size = Rectangle {
        width: wanted.width.max(1),
        height: wanted.height.max(1),
    };
    let rate = refresh_fraction(wanted.refresh_millihz);
    let formats: Vec<Id> = PixelFormat::OFFERED
        .iter()
        .map(|f| Id(f.to_spa().as_raw()))
        .collect();
    let size_value = if wanted.fixed_size {
        Value::Rectangle(size)
    } else {
        choice_range_rect(
            size,
            Rectangle {
                width: 1,
                height: 1,
            },
            MAX_SIZE,
        )
    };
    let max_rate_value = if wanted.fixed_size {
        Value::Fraction(rate)
    } else {
        choice_range_fraction(
            rate,
            Fraction { num: 1, denom: 1 },
            Fraction {
                num: 1000,
                denom: 1,
            },
        )
    };
    let object = Object {
        type_: SpaTypes::ObjectParamFormat.as_raw(),
        id: ParamType::EnumFormat.as_raw(),
        properties: vec![
            Property::new(
                FormatProperties::MediaType.as_raw(),
                Value::Id(Id(MediaType::Video.as_raw())),
            ),
            Property::new(
                FormatProperties::MediaSubtype.as_raw(),
                Value::Id(Id(MediaSubtype::Raw.as_raw())),
            ),
            Property::new(
                FormatProperties::VideoFormat.as_raw(),
                Value::Choice(ChoiceValue::Id(Choice(
                    ChoiceFlags::empty(),
                    ChoiceEnum::Enum {
                        default: formats[0],
                        alternatives: formats,
                    },
                ))),
            ),
            Property::new(FormatProperties::VideoSize.as_raw(), size_value),
            // Compositors announce 0/1 (variable rate), cameras a fixed rate:
            // accept both, preferring ours.
            Property::new(
                FormatProperties::VideoFramerate.as_raw(),
                choice_range_fraction(
                    rate,
                    Fraction { num: 0, denom: 1 },
                    Fraction {
                        num: 1000,
                        denom: 1,
                    },
                ),
            ),
            Property::new(FormatProperties::VideoMaxFramerate.as_raw(), max_rate_value),
        ],
    };
    PodSerializer::serialize(std::io::Cursor::new(Vec::new()), &Value::Object(object))
        .expect("serializing into a Vec cannot fail")
        .0
        .into_inner()
}

/// The serialized Buffers param: we can only read memory we can map, so we
/// rule out dmabufs even if a producer would offer them.
pub(crate) fn mappable_buffers() -> Vec<u8> {
    let types = (1 << spa_sys::SPA_DATA_MemPtr) | (1 << spa_sys::SPA_DATA_MemFd);
    let object = Object {
        type_: SpaTypes::ObjectParamBuffers.as_raw(),
        id: ParamType::Buffers.as_raw(),
        properties: vec![Property::new(
            spa_sys::SPA_PARAM_BUFFERS_dataType,
            Value::Choice(ChoiceValue::Int(Choice(
                ChoiceFlags::empty(),
                ChoiceEnum::Flags {
                    default: types,
                    flags: vec![],
                },
            ))),
        )],
    };
    PodSerializer::serialize(std::io::Cursor::new(Vec::new()), &Value::Object(object))
        .expect("serializing into a Vec cannot fail")
        .0
        .into_inner()
}

fn choice_range_rect(default: Rectangle, min: Rectangle, max: Rectangle) -> Value {
    Value::Choice(ChoiceValue::Rectangle(Choice(
        ChoiceFlags::empty(),
        ChoiceEnum::Range { default, min, max },
    )))
}

fn choice_range_fraction(default: Fraction, min: Fraction, max: Fraction) -> Value {
    Value::Choice(ChoiceValue::Fraction(Choice(
        ChoiceFlags::empty(),
        ChoiceEnum::Range { default, min, max },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipewire::spa::pod::deserialize::PodDeserializer;
    use pipewire::spa::pod::Pod;

    fn parse(bytes: &[u8]) -> Object {
        match PodDeserializer::deserialize_any_from(bytes).unwrap().1 {
            Value::Object(o) => o,
            other => panic!("not an object: {other:?}"),
        }
    }

    fn prop(object: &Object, key: FormatProperties) -> &Value {
        &object
            .properties
            .iter()
            .find(|p| p.key == key.as_raw())
            .unwrap()
            .value
    }

    #[test]
    fn refresh_is_reduced() {
        assert_eq!(refresh_fraction(60_000), Fraction { num: 60, denom: 1 });
        assert_eq!(
            refresh_fraction(59_940),
            Fraction {
                num: 2997,
                denom: 50
            }
        );
        assert_eq!(refresh_fraction(0), Fraction { num: 0, denom: 1 });
    }

    #[test]
    fn fixed_size_offers_exactly_one_size_and_rate() {
        let bytes = enum_format(Wanted {
            width: 1920,
            height: 1080,
            refresh_millihz: 30_000,
            fixed_size: true,
        });
        assert!(Pod::from_bytes(&bytes).is_some());
        let object = parse(&bytes);
        assert_eq!(object.id, ParamType::EnumFormat.as_raw());
        assert_eq!(
            prop(&object, FormatProperties::VideoSize),
            &Value::Rectangle(Rectangle {
                width: 1920,
                height: 1080
            })
        );
        assert_eq!(
            prop(&object, FormatProperties::VideoMaxFramerate),
            &Value::Fraction(Fraction { num: 30, denom: 1 })
        );
    }

    #[test]
    fn free_size_offers_a_range_with_our_default() {
        let object = parse(&enum_format(Wanted {
            width: 320,
            height: 240,
            refresh_millihz: 60_000,
            fixed_size: false,
        }));
        let Value::Choice(ChoiceValue::Rectangle(Choice(_, ChoiceEnum::Range { default, .. }))) =
            prop(&object, FormatProperties::VideoSize)
        else {
            panic!("size is not a range");
        };
        assert_eq!((default.width, default.height), (320, 240));
        let Value::Choice(ChoiceValue::Id(Choice(
            _,
            ChoiceEnum::Enum {
                default,
                alternatives,
            },
        ))) = prop(&object, FormatProperties::VideoFormat)
        else {
            panic!("format is not an enum");
        };
        assert_eq!(*default, Id(PixelFormat::Xrgb8888.to_spa().as_raw()));
        assert_eq!(alternatives.len(), 4);
    }
}
