//! The PDF file itself: catalog, pages and their content streams, the structure tree, the
//! embedded font subsets, the metadata and the file identifier.
//!
//! [`write_pdf`] stays one function of some 230 lines: it hands out the object numbers
//! (`alloc`) that every part refers to and fills the page and structure tables it builds as
//! it goes (the MCIDs of each page, the parent tree), so its parts share a dozen locals;
//! cut into functions, each would take most of them as arguments. Its blocks follow the
//! file's objects in order: catalog and info, pages, structure tree, fonts, identifier.

use super::embed::Embedding;
use super::fonts;
use super::layout::Layout;
use super::page::{Letter, LETTERHEAD_X, MM, PAGE_H, PAGE_W, RIGHT};
use super::tagging::{Kid, Role, Tag, Weight};
use super::xmp::xmp;
use chrono::{Datelike, SecondsFormat, Timelike};
use pdf_writer::types::{
    ArtifactSubtype, ArtifactType, CidFontType, FontFlags, StructRole, SystemInfo, TabOrder, UnicodeCmap,
};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

pub(super) fn write_pdf(letter: &Letter, layout: &mut Layout, pages: usize, rule_y: f32) -> Vec<u8> {
    let runs = &layout.runs;
    // Compact objects: the tags add ~60 small ones, and every byte is base64 in the MeMo.
    let mut pdf = Pdf::with_settings(pdf_writer::Settings { pretty: false });
    let mut next = 1;
    let mut alloc = || {
        next += 1;
        Ref::new(next - 1)
    };
    let (catalog, tree, info, struct_root, metadata) = (alloc(), alloc(), alloc(), alloc(), alloc());
    let page_ids: Vec<(Ref, Ref)> = (0..pages).map(|_| (alloc(), alloc())).collect();
    let elem_ids: Vec<Ref> = layout.elems.iter().map(|_| alloc()).collect();
    let parent_arrays: Vec<Ref> = (0..pages).map(|_| alloc()).collect();
    let mut fonts = [Embedding::new(fonts::regular(), Name(b"F1")), Embedding::new(fonts::bold(), Name(b"F2"))];
    const PRODUCER: &str = concat!("flspost ", env!("CARGO_PKG_VERSION"));

    {
        let mut cat = pdf.catalog(catalog);
        cat.pages(tree).lang(TextStr("da")).metadata(metadata);
        cat.pair(Name(b"StructTreeRoot"), struct_root);
        cat.mark_info().marked(true);
        cat.viewer_preferences().display_doc_title(true);
    }
    pdf.pages(tree).kids(page_ids.iter().map(|(p, _)| *p)).count(pages as i32);
    let c = letter.created;
    pdf.document_info(info).title(TextStr(&letter.title)).producer(TextStr(PRODUCER)).creation_date(
        pdf_writer::Date::new(c.year() as u16)
            .month(c.month() as u8)
            .day(c.day() as u8)
            .hour(c.hour() as u8)
            .minute(c.minute() as u8)
            .second(c.second() as u8)
            .utc_offset_hour(0)
            .utc_offset_minute(0),
    );
    let packet = xmp(&letter.title, &c.to_rfc3339_opts(SecondsFormat::Secs, true), PRODUCER);
    pdf.metadata(metadata, packet.as_bytes());

    let font_refs: Vec<Ref> = fonts.iter().map(|_| alloc()).collect();
    // Per page, the element each MCID belongs to (the parent tree's entry for the page).
    let mut parents: Vec<Vec<Ref>> = vec![vec![]; pages];
    for (n, (page_id, content_id)) in page_ids.iter().enumerate() {
        let mut content = Content::new();
        content.begin_text();
        for run in runs.iter().filter(|r| r.page == n) {
            match run.tag {
                Tag::Elem(e) => {
                    let mcid = parents[n].len() as i32;
                    parents[n].push(elem_ids[e]);
                    layout.elems[e].kids.push(Kid::Content(n, mcid));
                    content
                        .begin_marked_content_with_properties(layout.elems[e].role.tag())
                        .properties()
                        .identify(mcid);
                }
                Tag::LayoutArtifact => {
                    content
                        .begin_marked_content_with_properties(Name(b"Artifact"))
                        .properties()
                        .artifact()
                        .kind(ArtifactType::Layout);
                }
            }
            let f = &mut fonts[usize::from(run.weight == Weight::Bold)];
            content.set_font(f.resource, run.size);
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, run.y]);
            let glyphs = f.encode(&run.text);
            content.show(Str(&glyphs));
            content.end_marked_content();
        }
        // The page number: a pagination artifact.
        let footer = format!("Side {} af {}", n + 1, pages);
        let size = letter.sizes.footer;
        let w = fonts::regular().width(&footer, size);
        content
            .begin_marked_content_with_properties(Name(b"Artifact"))
            .properties()
            .artifact()
            .kind(ArtifactType::Pagination)
            .subtype(ArtifactSubtype::Footer);
        content.set_font(fonts[0].resource, size);
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, RIGHT - w, 12.0 * MM]);
        let glyphs = fonts[0].encode(&footer);
        content.show(Str(&glyphs));
        content.end_marked_content();
        content.end_text();
        if n == 0 {
            // A thin rule under the letterhead: decoration.
            content
                .begin_marked_content_with_properties(Name(b"Artifact"))
                .properties()
                .artifact()
                .kind(ArtifactType::Layout);
            content.set_line_width(0.5);
            content.move_to(LETTERHEAD_X, rule_y).line_to(RIGHT, rule_y).stroke();
            content.end_marked_content();
        }
        let raw = content.finish();
        // Text operators compress ~7:1, so this one is worth deflating.
        let compressed = deflate(&raw);
        pdf.stream(*content_id, &compressed).filter(Filter::FlateDecode);

        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(*content_id)
            .struct_parents(n as i32)
            .tab_order(TabOrder::StructureOrder);
        let mut resources = page.resources();
        // Black text and rule are DeviceGray; PDF/A asks for a device-independent meaning:
        // CalGray with the D65 white point (no ICC profile to embed).
        resources.color_spaces().insert(Name(b"DefaultGray")).start::<pdf_writer::writers::ColorSpace>().cal_gray(
            [0.9505, 1.0, 1.089],
            None,
            None,
        );
        let mut font_dict = resources.fonts();
        for (f, id) in fonts.iter().zip(&font_refs) {
            font_dict.pair(f.resource, *id);
        }
    }

    // The structure tree, in reading order.
    {
        let mut root = pdf.indirect(struct_root).start::<pdf_writer::writers::StructTreeRoot>();
        root.child(elem_ids[0]);
        let mut roles = root.role_map();
        for role in [Role::Letterhead, Role::Address, Role::Signature] {
            roles.insert(Name(role.custom().expect("a custom role")), StructRole::Div);
        }
        roles.finish();
        let mut tree = root.parent_tree();
        let mut nums = tree.nums();
        for (n, id) in parent_arrays.iter().enumerate() {
            nums.insert(n as i32, *id);
        }
        nums.finish();
        tree.finish();
        root.parent_tree_next_key(pages as i32);
    }
    for (n, refs) in parents.iter().enumerate() {
        pdf.indirect(parent_arrays[n]).array().items(refs.iter().copied());
    }
    for (i, e) in layout.elems.iter().enumerate() {
        let mut el = pdf.struct_element(elem_ids[i]);
        match e.role.custom() {
            Some(name) => el.custom_kind(Name(name)),
            None => el.kind(match e.role {
                Role::Document => StructRole::Document,
                Role::H1 => StructRole::H1,
                _ => StructRole::P,
            }),
        };
        el.parent(e.parent.map_or(struct_root, |p| elem_ids[p]));
        let mut kids = el.children();
        for k in &e.kids {
            match *k {
                Kid::Elem(c) => {
                    kids.struct_element(elem_ids[c]);
                }
                Kid::Content(page, mcid) => {
                    kids.marked_content_ref().marked_content_id(mcid).page(page_ids[page].0);
                }
            }
        }
    }

    for (f, type0_id) in fonts.iter_mut().zip(font_refs) {
        let (cid_id, descriptor_id, file_id, cmap_id) = (alloc(), alloc(), alloc(), alloc());
        let base = format!("{}+{}", f.tag(), f.face.name);
        let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
        pdf.type0_font(type0_id)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_id)
            .to_unicode(cmap_id);
        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(Name(base.as_bytes()))
            .system_info(system_info)
            .font_descriptor(descriptor_id)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        f.used.sort_by_key(|u| u.0);
        let mut widths = cid.widths();
        for (gid, _, w) in &f.used {
            widths.consecutive(*gid, [*w]);
        }
        widths.finish();
        cid.finish();

        let mut flags = FontFlags::NON_SYMBOLIC;
        if f.face.bold {
            flags |= FontFlags::FORCE_BOLD;
        }
        let bb = f.face.bbox;
        pdf.font_descriptor(descriptor_id)
            .name(Name(base.as_bytes()))
            .flags(flags)
            .bbox(Rect::new(bb[0], bb[1], bb[2], bb[3]))
            .italic_angle(0.0)
            .ascent(f.face.ascent)
            .descent(f.face.descent)
            .cap_height(f.face.cap_height)
            .stem_v(f.face.stem_v)
            .font_file2(file_id);
        // A letter's subset is ~4 KB and deflate would save ~1 KB of it at ~40 µs: not worth it.
        let subset = subsetter::subset(f.face.data, 0, &f.remapper).expect("the bundled font subsets");
        pdf.stream(file_id, &subset).pair(Name(b"Length1"), subset.len() as i32);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (gid, c, _) in &f.used {
            cmap.pair(*gid, *c);
        }
        pdf.cmap(cmap_id, &cmap.finish());
    }
    // PDF/A wants a file identifier: a hash of what the letter says, so the same letter
    // gets the same one and the output stays reproducible.
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(packet.as_bytes());
    for r in runs {
        h.update(r.text.as_bytes());
    }
    let id = h.finalize()[..16].to_vec();
    pdf.set_file_id((id.clone(), id));
    pdf.finish()
}

thread_local! {
    /// One compressor per thread, reset for each stream: making one allocates and zeroes some
    /// 300 KB of tables, half of what deflating a letter's page cost.
    static COMPRESSOR: std::cell::RefCell<Option<Box<miniz_oxide::deflate::core::CompressorOxide>>> =
        const { std::cell::RefCell::new(None) };
}

/// `raw` as a zlib stream at level 1, the same bytes as `compress_to_vec_zlib(raw, 1)`.
fn deflate(raw: &[u8]) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
    };
    COMPRESSOR.with(|slot| {
        let mut slot = slot.borrow_mut();
        let c = slot.get_or_insert_with(|| Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(1, 1, 0))));
        c.reset();
        let mut out = vec![0; (raw.len() / 2).max(64)];
        let (mut input, mut at) = (raw, 0);
        loop {
            let (status, read, written) = compress(c, input, &mut out[at..], TDEFLFlush::Finish);
            at += written;
            match status {
                TDEFLStatus::Done => {
                    out.truncate(at);
                    return out;
                }
                TDEFLStatus::Okay if read <= input.len() => {
                    input = &input[read..];
                    if out.len() - at < 30 {
                        out.resize(out.len() * 2, 0);
                    }
                }
                // Only a bug in miniz_oxide gets here: its own function then (which panics).
                _ => return miniz_oxide::deflate::compress_to_vec_zlib(raw, 1),
            }
        }
    })
}

#[cfg(test)]
mod deflate_tests {
    #[test]
    fn the_kept_compressor_writes_what_a_new_one_writes() {
        let text: Vec<u8> =
            (0..20_000u32).flat_map(|i| format!("BT /F1 11 Tf {} {} Td ET\n", i % 97, i % 13).into_bytes()).collect();
        for input in [&text[..], &text[..100], b"", &text[..7_777], &text[..]] {
            assert_eq!(super::deflate(input), miniz_oxide::deflate::compress_to_vec_zlib(input, 1));
        }
    }
}
