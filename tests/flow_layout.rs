//! A value flow keeps its target in two words ([`ValueFlow`]): every kind of target reads back
//! as it was made, and one whose call index no file reaches is refused.

use stateleak::facts::{CallReceiver, FlowSource, FlowTarget, Name, ValueFlow};

#[test]
fn every_kind_of_target_reads_back() {
    let name = Name::from("handler");
    let keyword = Name::from("callback");
    let targets = [
        FlowTarget::Name {
            name,
            global: false,
        },
        FlowTarget::Name { name, global: true },
        FlowTarget::Return,
        FlowTarget::PositionalArgument { call: 0, index: 0 },
        FlowTarget::PositionalArgument {
            call: 1_000_000,
            index: u32::MAX,
        },
        FlowTarget::PositionalArgument {
            call: (1 << 31) - 4,
            index: 3,
        },
        FlowTarget::KeywordArgument { call: 0, keyword },
        FlowTarget::KeywordArgument {
            call: (1 << 31) - 4,
            keyword,
        },
    ];
    let sources = [
        FlowSource::CallResult(7),
        FlowSource::CallResult(u32::MAX),
        FlowSource::Name {
            receiver: CallReceiver::SelfParam,
            name,
        },
        FlowSource::Name {
            receiver: CallReceiver::CallResult(12),
            name: keyword,
        },
    ];
    for function in [None, Some(0), Some(41)] {
        for target in targets {
            for source in sources {
                let flow = ValueFlow::try_new(function, target, source).unwrap();
                assert_eq!(flow.function(), function);
                assert_eq!(flow.target(), target);
                assert_eq!(flow.source(), source);
                let bytes = postcard::to_allocvec(&flow).unwrap();
                let back: ValueFlow = postcard::from_bytes(&bytes).unwrap();
                assert_eq!(back, flow);
            }
        }
    }
}

#[test]
fn a_call_index_no_file_reaches_is_refused() {
    let source = FlowSource::CallResult(0);
    for call in [
        (1 << 31) - 3,
        (1 << 31) - 1,
        1 << 31,
        u32::MAX - 2,
        u32::MAX,
    ] {
        let positional = FlowTarget::PositionalArgument { call, index: 0 };
        assert!(ValueFlow::try_new(None, positional, source).is_none());
        let keyword = FlowTarget::KeywordArgument {
            call,
            keyword: Name::from("k"),
        };
        assert!(ValueFlow::try_new(None, keyword, source).is_none());
    }
}
