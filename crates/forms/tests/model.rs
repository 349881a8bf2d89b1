//! The model as data: JSON round trip, steps, structural checks.

use rathaus_forms::*;

#[test]
fn form_round_trips_through_json() {
    for form in [hundesteuer(), crate::blaue_karte().clone()] {
        let json = serde_json::to_string(&form).unwrap();
        let back: Form = serde_json::from_str(&json).unwrap();
        assert_eq!(back, form);
    }
    let v = serde_json::to_value(hundesteuer()).unwrap();
    assert_eq!(v["trust_level"], "substantial");
    assert_eq!(v["elements"][0]["type"], "group");
    assert_eq!(v["elements"][0]["children"][0]["prefill"], "given_name");
    assert_eq!(v["elements"][1]["max"], 5);
    assert_eq!(v["elements"][1]["children"][2]["datatype"], "text");
    assert_eq!(v["elements"][1]["children"][2]["kind"], "select");
    assert_eq!(
        v["elements"][1]["children"][6]["condition"]["equals"],
        "gefaehrlicher_hund"
    );
    let bk = serde_json::to_value(crate::blaue_karte()).unwrap();
    assert_eq!(bk["source"]["xdf_version"], "2");
    assert!(bk["elements"][0].get("max").is_some());
}

#[test]
fn hundesteuer_is_consistent() {
    let f = hundesteuer();
    assert_eq!(f.check(), Ok(()));
    assert_eq!(f.trust_level, Some(TrustLevel::Substantial));
    assert!(f.fee.as_ref().unwrap().hint.contains("Hundesteuersatzung"));
    assert_eq!(f.effective_steps().len(), 3);
    // Every id is in the private Nummernkreis 99 with the XDF 3 format.
    f.walk(|e| {
        let id = e.id();
        assert!(id.len() == 12 && &id[1..3] == "99", "{id}");
    });
    let Element::Group(dog) = &f.elements[1] else {
        panic!()
    };
    assert_eq!((dog.min, dog.max), (1, Some(5)));
    let kinds = dog
        .children
        .iter()
        .find(|e| e.id() == "F99000000014")
        .unwrap();
    let Element::Field(kinds) = kinds else {
        panic!()
    };
    let codes: Vec<_> = kinds
        .code_list
        .as_ref()
        .unwrap()
        .values
        .iter()
        .map(|v| v.code.as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "ersthund",
            "zweithund",
            "weiterer_hund",
            "gefaehrlicher_hund"
        ]
    );
}

#[test]
fn check_finds_structural_errors() {
    let mut f = hundesteuer();
    let Element::Group(dog) = &mut f.elements[1] else {
        panic!()
    };
    dog.children.push(dog.children[1].clone());
    if let Element::Field(fd) = &mut dog.children[3] {
        fd.condition = Some(Condition {
            field: "F99000000001".into(),
            equals: serde_json::json!("x"),
        });
        fd.constraints.pattern = Some("([0-9]".into());
    }
    dog.max = Some(0);
    f.steps[0].elements.push("F99000000099".into());
    f.elements.push(Element::Field(match &f.elements[2] {
        Element::Field(x) => Field {
            id: "9abc".into(),
            ..x.clone()
        },
        _ => panic!(),
    }));
    let errors = f.check().unwrap_err();
    let all = errors.join("\n");
    for needle in [
        "G99000000003/F99000000010 kommt mehrfach vor",
        "G99000000003: Mindestanzahl größer als Höchstanzahl",
        "G99000000003/F99000000012: Die Bedingung",
        "Muster „([0-9]“ ist ungültig",
        "unbekannte Element F99000000099",
        "9abc: Kennungen bestehen",
        "Element 9abc steht auf keiner Seite",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
}
