//! The `jute_record!` macro: one declaration per jute class.
//!
//! Mirrors: the record classes Java's jute compiler generates from
//! `zookeeper.jute` (`org.apache.jute.compiler.JRecord` output).

/// Declares a jute record: a struct with public fields in schema order and
/// a [`Record`](crate::jute::Record) impl that reads and writes them in that
/// order.
macro_rules! jute_record {
    ($(
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    )*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::jute::Record for $name {
            #[allow(unused_variables)]
            fn serialize<W: std::io::Write>(
                &self,
                oa: &mut $crate::jute::OutputArchive<W>,
            ) -> std::io::Result<()> {
                $( $crate::jute::Record::serialize(&self.$field, oa)?; )*
                Ok(())
            }

            #[allow(unused_variables)]
            fn deserialize<R: std::io::Read>(
                ia: &mut $crate::jute::InputArchive<R>,
            ) -> $crate::jute::Result<Self> {
                Ok($name {
                    $( $field: $crate::jute::Record::deserialize(ia)?, )*
                })
            }
        }
    )*};
}
