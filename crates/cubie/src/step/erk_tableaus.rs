//! The named explicit Runge–Kutta tableaus, under CuBIE's names and
//! aliases, and their lookup.
//!
//! Rational coefficients are written as `p / q` (evaluated in `f64`, so
//! correctly rounded or within an ulp); irrational ones (DOP853, Tsit5) carry
//! the full published digits.

// The published digits are kept even where they exceed f64 precision, so
// the source can be checked against the papers digit by digit.
#![allow(clippy::excessive_precision)]

use thiserror::Error;

use super::tableau::{ButcherTableau, EmbeddedWeights};

/// An unknown tableau name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown explicit Runge-Kutta tableau `{name}`; valid names: {valid}")]
pub struct UnknownTableau {
    /// The name asked for.
    pub name: String,
    /// Every accepted name and alias, comma separated.
    pub valid: String,
}

/// Forward Euler (order 1, no error estimate).
pub static EULER: ButcherTableau = ButcherTableau {
    name: "euler",
    aliases: &[],
    reference: "Euler (1768), explicit Euler method",
    a: &[&[]],
    b: &[1.0],
    c: &[0.0],
    order: 1,
    embedded: None,
    secondary: None,
};

/// Heun's method (order 2) with the embedded Euler solution (order 1), the
/// pair OrdinaryDiffEq's adaptive `Heun()` uses.
pub static HEUN_21: ButcherTableau = ButcherTableau {
    name: "heun-21",
    aliases: &[],
    reference: "Heun, Z. Math. Phys. 45 (1900); embedded Euler estimate",
    a: &[&[], &[1.0]],
    b: &[1.0 / 2.0, 1.0 / 2.0],
    c: &[0.0, 1.0],
    order: 2,
    embedded: Some(EmbeddedWeights {
        weights: &[1.0, 0.0],
        order: 1,
    }),
    secondary: None,
};

/// Ralston's third-order three-stage method (no error estimate).
pub static RALSTON_33: ButcherTableau = ButcherTableau {
    name: "ralston-33",
    aliases: &[],
    reference: "Ralston, Math. Comp. 16 (1962)",
    a: &[&[], &[1.0 / 2.0], &[0.0, 3.0 / 4.0]],
    b: &[2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0],
    c: &[0.0, 1.0 / 2.0, 3.0 / 4.0],
    order: 3,
    embedded: None,
    secondary: None,
};

/// Bogacki–Shampine 3(2), FSAL.
pub static BOGACKI_SHAMPINE_32: ButcherTableau = ButcherTableau {
    name: "bogacki-shampine-32",
    aliases: &["rk23", "ode23"],
    reference: "Bogacki & Shampine, Appl. Math. Lett. 2 (1989)",
    a: &[
        &[],
        &[1.0 / 2.0],
        &[0.0, 3.0 / 4.0],
        &[2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0],
    ],
    b: &[2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0, 0.0],
    c: &[0.0, 1.0 / 2.0, 3.0 / 4.0, 1.0],
    order: 3,
    embedded: Some(EmbeddedWeights {
        weights: &[7.0 / 24.0, 1.0 / 4.0, 1.0 / 3.0, 1.0 / 8.0],
        order: 2,
    }),
    secondary: None,
};

/// Dormand–Prince 5(4), FSAL.
pub static DORMAND_PRINCE_54: ButcherTableau = ButcherTableau {
    name: "dormand-prince-54",
    aliases: &["dopri54", "rk45", "ode45"],
    reference: "Dormand & Prince, J. Comput. Appl. Math. 6 (1980)",
    a: &[
        &[],
        &[1.0 / 5.0],
        &[3.0 / 40.0, 9.0 / 40.0],
        &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
        &[
            19372.0 / 6561.0,
            -25360.0 / 2187.0,
            64448.0 / 6561.0,
            -212.0 / 729.0,
        ],
        &[
            9017.0 / 3168.0,
            -355.0 / 33.0,
            46732.0 / 5247.0,
            49.0 / 176.0,
            -5103.0 / 18656.0,
        ],
        &[
            35.0 / 384.0,
            0.0,
            500.0 / 1113.0,
            125.0 / 192.0,
            -2187.0 / 6784.0,
            11.0 / 84.0,
        ],
    ],
    b: &[
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
        0.0,
    ],
    c: &[0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0],
    order: 5,
    embedded: Some(EmbeddedWeights {
        weights: &[
            5179.0 / 57600.0,
            0.0,
            7571.0 / 16695.0,
            393.0 / 640.0,
            -92097.0 / 339200.0,
            187.0 / 2100.0,
            1.0 / 40.0,
        ],
        order: 4,
    }),
    secondary: None,
};

/// The classical fourth-order method (no error estimate).
pub static CLASSICAL_RK4: ButcherTableau = ButcherTableau {
    name: "classical-rk4",
    aliases: &["rk4"],
    reference: "Kutta, Z. Math. Phys. 46 (1901)",
    a: &[&[], &[1.0 / 2.0], &[0.0, 1.0 / 2.0], &[0.0, 0.0, 1.0]],
    b: &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
    c: &[0.0, 1.0 / 2.0, 1.0 / 2.0, 1.0],
    order: 4,
    embedded: None,
    secondary: None,
};

/// Cash–Karp 5(4).
pub static CASH_KARP_54: ButcherTableau = ButcherTableau {
    name: "cash-karp-54",
    aliases: &[],
    reference: "Cash & Karp, ACM Trans. Math. Softw. 16 (1990)",
    a: &[
        &[],
        &[1.0 / 5.0],
        &[3.0 / 40.0, 9.0 / 40.0],
        &[3.0 / 10.0, -9.0 / 10.0, 6.0 / 5.0],
        &[-11.0 / 54.0, 5.0 / 2.0, -70.0 / 27.0, 35.0 / 27.0],
        &[
            1631.0 / 55296.0,
            175.0 / 512.0,
            575.0 / 13824.0,
            44275.0 / 110592.0,
            253.0 / 4096.0,
        ],
    ],
    b: &[
        37.0 / 378.0,
        0.0,
        250.0 / 621.0,
        125.0 / 594.0,
        0.0,
        512.0 / 1771.0,
    ],
    c: &[0.0, 1.0 / 5.0, 3.0 / 10.0, 3.0 / 5.0, 1.0, 7.0 / 8.0],
    order: 5,
    embedded: Some(EmbeddedWeights {
        weights: &[
            2825.0 / 27648.0,
            0.0,
            18575.0 / 48384.0,
            13525.0 / 55296.0,
            277.0 / 14336.0,
            1.0 / 4.0,
        ],
        order: 4,
    }),
    secondary: None,
};

/// Runge–Kutta–Fehlberg 4(5), propagating the 5th-order solution (local
/// extrapolation), with the 4th-order solution as the embedded estimate.
pub static FEHLBERG_45: ButcherTableau = ButcherTableau {
    name: "fehlberg-45",
    aliases: &[],
    reference: "Fehlberg, NASA TR R-315 (1969)",
    a: &[
        &[],
        &[1.0 / 4.0],
        &[3.0 / 32.0, 9.0 / 32.0],
        &[1932.0 / 2197.0, -7200.0 / 2197.0, 7296.0 / 2197.0],
        &[439.0 / 216.0, -8.0, 3680.0 / 513.0, -845.0 / 4104.0],
        &[
            -8.0 / 27.0,
            2.0,
            -3544.0 / 2565.0,
            1859.0 / 4104.0,
            -11.0 / 40.0,
        ],
    ],
    b: &[
        16.0 / 135.0,
        0.0,
        6656.0 / 12825.0,
        28561.0 / 56430.0,
        -9.0 / 50.0,
        2.0 / 55.0,
    ],
    c: &[0.0, 1.0 / 4.0, 3.0 / 8.0, 12.0 / 13.0, 1.0, 1.0 / 2.0],
    order: 5,
    embedded: Some(EmbeddedWeights {
        weights: &[
            25.0 / 216.0,
            0.0,
            1408.0 / 2565.0,
            2197.0 / 4104.0,
            -1.0 / 5.0,
            0.0,
        ],
        order: 4,
    }),
    secondary: None,
};

/// Dormand–Prince 8(5,3) as in Hairer's DOP853 code.
///
/// Error estimate: the classic code does not use one embedded solution but
/// combines two. Both are given here as embedded weights:
/// - [`ButcherTableau::b_hat`] = `b - er`, Hairer's `er` weights turned into a
///   genuine 5th-order embedded solution (`error_order() == 5`); using it
///   alone gives an `O(dt^6)` estimate;
/// - [`ButcherTableau::secondary_embedded`] = `bhh` (stages 1, 9, 12), a
///   3rd-order solution.
///
/// Hairer's (and OrdinaryDiffEq's `DP8`) error measure is
/// [`dop853_combined_error`](super::dop853_combined_error) of the two scaled
/// norms, which behaves like `O(dt^8)` (a 7th-order estimate); a step that
/// wants to reproduce `DP8` uses that, with exponent 1/8.
pub static DORMAND_PRINCE_853: ButcherTableau = ButcherTableau {
    name: "dormand-prince-853",
    aliases: &["dop853"],
    reference: "Hairer, Norsett & Wanner, Solving ODEs I (1993), DOP853",
    a: &[
        &[],
        &[5.26001519587677318785587544488e-2],
        &[
            1.97250569845378994544595329183e-2,
            5.91751709536136983633785987549e-2,
        ],
        &[
            2.95875854768068491816892993775e-2,
            0.0,
            8.87627564304205475450678981324e-2,
        ],
        &[
            2.41365134159266685502369798665e-1,
            0.0,
            -8.84549479328286085344864962717e-1,
            9.24834003261792003115737966543e-1,
        ],
        &[
            3.7037037037037037037037037037e-2,
            0.0,
            0.0,
            1.70828608729473871279604482173e-1,
            1.25467687566822425016691814123e-1,
        ],
        &[
            3.7109375e-2,
            0.0,
            0.0,
            1.70252211019544039314978060272e-1,
            6.02165389804559606850219397283e-2,
            -1.7578125e-2,
        ],
        &[
            3.70920001185047927108779319836e-2,
            0.0,
            0.0,
            1.70383925712239993810214054705e-1,
            1.07262030446373284651809199168e-1,
            -1.53194377486244017527936158236e-2,
            8.27378916381402288758473766002e-3,
        ],
        &[
            6.24110958716075717114429577812e-1,
            0.0,
            0.0,
            -3.36089262944694129406857109825e0,
            -8.68219346841726006818189891453e-1,
            2.75920996994467083049415600797e1,
            2.01540675504778934086186788979e1,
            -4.34898841810699588477366255144e1,
        ],
        &[
            4.77662536438264365890433908527e-1,
            0.0,
            0.0,
            -2.48811461997166764192642586468e0,
            -5.90290826836842996371446475743e-1,
            2.12300514481811942347288949897e1,
            1.52792336328824235832596922938e1,
            -3.32882109689848629194453265587e1,
            -2.03312017085086261358222928593e-2,
        ],
        &[
            -9.3714243008598732571704021658e-1,
            0.0,
            0.0,
            5.18637242884406370830023853209e0,
            1.09143734899672957818500254654e0,
            -8.14978701074692612513997267357e0,
            -1.85200656599969598641566180701e1,
            2.27394870993505042818970056734e1,
            2.49360555267965238987089396762e0,
            -3.0467644718982195003823669022e0,
        ],
        &[
            2.27331014751653820792359768449e0,
            0.0,
            0.0,
            -1.05344954667372501984066689879e1,
            -2.00087205822486249909675718444e0,
            -1.79589318631187989172765950534e1,
            2.79488845294199600508499808837e1,
            -2.85899827713502369474065508674e0,
            -8.87285693353062954433549289258e0,
            1.23605671757943030647266201528e1,
            6.43392746015763530355970484046e-1,
        ],
    ],
    b: &DOP853_B,
    c: &[
        0.0,
        0.526001519587677318785587544488e-1,
        0.789002279381515978178381316732e-1,
        0.118350341907227396726757197510,
        0.281649658092772603273242802490,
        1.0 / 3.0,
        1.0 / 4.0,
        4.0 / 13.0,
        127.0 / 195.0,
        3.0 / 5.0,
        6.0 / 7.0,
        1.0,
    ],
    order: 8,
    embedded: Some(EmbeddedWeights {
        weights: &DOP853_B_HAT5,
        order: 5,
    }),
    secondary: Some(EmbeddedWeights {
        weights: &[
            0.244094488188976377952755905512,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.733846688281611857341361741547,
            0.0,
            0.0,
            0.220588235294117647058823529412e-1,
        ],
        order: 3,
    }),
};

const DOP853_B: [f64; 12] = [
    5.42937341165687622380535766363e-2,
    0.0,
    0.0,
    0.0,
    0.0,
    4.45031289275240888144113950566e0,
    1.89151789931450038304281599044e0,
    -5.8012039600105847814672114227e0,
    3.1116436695781989440891606237e-1,
    -1.52160949662516078556178806805e-1,
    2.01365400804030348374776537501e-1,
    4.47106157277725905176885569043e-2,
];

/// Hairer's 5th-order error weights `er` (stages 1, 6..12).
const DOP853_ER: [f64; 12] = [
    0.1312004499419488073250102996e-1,
    0.0,
    0.0,
    0.0,
    0.0,
    -0.1225156446376204440720569753e1,
    -0.4957589496572501915214079952e0,
    0.1664377182454986536961530415e1,
    -0.3503288487499736816886487290e0,
    0.3341791187130174790297318841e0,
    0.8192320648511571246570742613e-1,
    -0.2235530786388629525884427845e-1,
];

const DOP853_B_HAT5: [f64; 12] = {
    let mut w = [0.0; 12];
    let mut i = 0;
    while i < 12 {
        w[i] = DOP853_B[i] - DOP853_ER[i];
        i += 1;
    }
    w
};

/// Tsitouras 5(4) (2011), FSAL, with the published 4th-order `b̂`.
pub static TSIT5: ButcherTableau = ButcherTableau {
    name: "tsit5",
    aliases: &[],
    reference: "Tsitouras, Comput. Math. Appl. 62 (2011)",
    a: &[
        &[],
        &[0.161],
        &[
            -0.008480655492356988544426874250230774675121,
            0.3354806554923569885444268742502307746751,
        ],
        &[
            2.897153057105493432130432594192938764925,
            -6.359448489975074843148159912383825625953,
            4.362295432869581411017727318190886861028,
        ],
        &[
            5.325864828439256604428877920840511317836,
            -11.74888356406282787774717033978577296189,
            7.495539342889836208304604784564358155659,
            -0.0924950663617552492565020793320719161135,
        ],
        &[
            5.861455442946420028659251486982647890394,
            -12.92096931784710929170611868178335939542,
            8.159367898576158643180400794539253485182,
            -0.07158497328140099722453054252582973869127,
            -0.02826905039406838290900305721271224146718,
        ],
        &TSIT5_B6,
    ],
    b: &[
        TSIT5_B6[0],
        TSIT5_B6[1],
        TSIT5_B6[2],
        TSIT5_B6[3],
        TSIT5_B6[4],
        TSIT5_B6[5],
        0.0,
    ],
    c: &[
        0.0,
        0.161,
        0.327,
        0.9,
        0.9800255409045096857298102862870245954942,
        1.0,
        1.0,
    ],
    order: 5,
    embedded: Some(EmbeddedWeights {
        weights: &[
            0.09468075576583945807478876255758922856118,
            0.009183565540343253096776363936645313759814,
            0.4877705284247615707855642599631228241517,
            1.234297566930478985655109673884237654036,
            -2.707712349983525454881109975059321670690,
            1.866628418170587035753719399566211498666,
            1.0 / 66.0,
        ],
        order: 4,
    }),
    secondary: None,
};

const TSIT5_B6: [f64; 6] = [
    0.09646076681806522951816731316512876333712,
    0.01,
    0.4798896504144995747752495322905965199130,
    1.379008574103741893192274821856872770756,
    -3.290069515436080679901047585711363850116,
    2.324710524099773982415355918398765796109,
];

/// Verner's "most efficient" 7(6) pair (RKV76.IIa), 10 stages.
pub static VERN7: ButcherTableau = ButcherTableau {
    name: "vern7",
    aliases: &[],
    reference: "Verner, Numer. Algorithms 53 (2010); RKV76.IIa efficient pair",
    a: &[
        &[],
        &[1.0 / 200.0],
        &[-4361.0 / 4050.0, 2401.0 / 2025.0],
        &[49.0 / 1200.0, 0.0, 49.0 / 400.0],
        &[
            2454451729.0 / 3841600000.0,
            0.0,
            -9433712007.0 / 3841600000.0,
            4364554539.0 / 1920800000.0,
        ],
        &[
            -6187101755456742839167388910402379177523537620.0
                / 2324599620333464857202963610201679332423082271.0,
            0.0,
            27569888999279458303270493567994248533230000.0
                / 2551701010245296220859455115479340650299761.0,
            -37368161901278864592027018689858091583238040000.0
                / 4473131870960004275166624817435284159975481033.0,
            1392547243220807196190880383038194667840000000.0
                / 1697219131380493083996999253929006193143549863.0,
        ],
        &[
            11272026205260557297236918526339.0 / 1857697188743815510261537500000.0,
            0.0,
            -48265918242888069.0 / 1953194276993750.0,
            26726983360888651136155661781228.0 / 1308381343805114800955157615625.0,
            -2090453318815827627666994432.0 / 1096684189897834170412307919.0,
            1148577938985388929671582486744843844943428041509.0
                / 1141532118233823914568777901158338927629837500000.0,
        ],
        &[
            1304457204588839386329181466225966641.0 / 108211771565488329642169667802016000.0,
            0.0,
            -1990261989751005.0 / 40001418792832.0,
            2392691599894847687194643439066780106875.0 / 58155654089143548047476915856270826016.0,
            -1870932273351008733802814881998561250.0 / 419326053051486744762255151208232123.0,
            1043329047173803328972823866240311074041739158858792987034783181.0
                / 510851127745017966999893975119259285040213723744255237522144000.0,
            -311918858557595100410788125.0 / 3171569057622789618800376448.0,
        ],
        &[
            17579784273699839132265404100877911157.0 / 1734023495717116205617154737841023480.0,
            0.0,
            -18539365951217471064750.0 / 434776548575709731377.0,
            447448655912568142291911830292656995992000.0
                / 12511202807447096607487664209063950964109.0,
            -65907597316483030274308429593905808000000.0
                / 15158061430635748897861852383197382130691.0,
            273847823027445129865693702689010278588244606493753883568739168819449761.0
                / 136252034448398939768371761610231099586032870552034688235302796640584360.0,
            694664732797172504668206847646718750.0 / 1991875650119463976442052358853258111.0,
            -19705319055289176355560129234220800.0 / 72595753317320295604316217197876507.0,
        ],
        &[
            -511858190895337044664743508805671.0 / 11367030248263048398341724647960.0,
            0.0,
            2822037469238841750.0 / 15064746656776439.0,
            -23523744880286194122061074624512868000.0 / 152723005449262599342117017051789699.0,
            10685036369693854448650967542704000000.0 / 575558095977344459903303055137999707.0,
            -6259648732772142303029374363607629515525848829303541906422993.0
                / 876479353814142962817551241844706205620792843316435566420120.0,
            17380896627486168667542032602031250.0 / 13279937889697320236613879977356033.0,
            0.0,
            0.0,
        ],
    ],
    b: &[
        96762636172307789.0 / 2051985304794103980.0,
        0.0,
        0.0,
        312188947591288252500000.0 / 1212357694274963646019729.0,
        13550580884964304000000000000.0 / 51686919683339547115937980629.0,
        72367769693133178898676076432831566019684378142853445230956642801.0
            / 475600216991873963561768100160364792981629064220601844848928537580.0,
        1619421054120605468750.0 / 3278200730370057108183.0,
        -66898316144057728000.0 / 227310933007074849597.0,
        181081444637946577.0 / 2226845467039736466.0,
        0.0,
    ],
    c: &[
        0.0,
        1.0 / 200.0,
        49.0 / 450.0,
        49.0 / 300.0,
        911.0 / 2000.0,
        3480084980.0 / 5709648941.0,
        221.0 / 250.0,
        37.0 / 40.0,
        1.0,
        1.0,
    ],
    order: 7,
    embedded: Some(EmbeddedWeights {
        weights: &[
            117807213929927.0 / 2640907728177740.0,
            0.0,
            0.0,
            4758744518816629500000.0 / 17812069906509312711137.0,
            1730775233574080000000000.0 / 7863520414322158392809673.0,
            2682653613028767167314032381891560552585218935572349997.0
                / 12258338284789875762081637252125169126464880985167722660.0,
            40977117022675781250.0 / 178949401077111131341.0,
            0.0,
            0.0,
            2152106665253777.0 / 106040260335225546.0,
        ],
        order: 6,
    }),
    secondary: None,
};

/// Every named ERK tableau, in a stable order.
pub static ERK_TABLEAUS: [&ButcherTableau; 11] = [
    &EULER,
    &HEUN_21,
    &RALSTON_33,
    &BOGACKI_SHAMPINE_32,
    &DORMAND_PRINCE_54,
    &CLASSICAL_RK4,
    &CASH_KARP_54,
    &FEHLBERG_45,
    &DORMAND_PRINCE_853,
    &TSIT5,
    &VERN7,
];

/// All named ERK tableaus (canonical entries; aliases via
/// [`ButcherTableau::aliases`]).
pub fn erk_tableaus() -> &'static [&'static ButcherTableau] {
    &ERK_TABLEAUS
}

/// Every accepted name and alias, canonical names first within each entry.
pub fn erk_tableau_names() -> Vec<&'static str> {
    ERK_TABLEAUS
        .iter()
        .flat_map(|t| std::iter::once(t.name()).chain(t.aliases().iter().copied()))
        .collect()
}

/// Looks a tableau up by name or alias, ignoring ASCII case
/// (`"Tsit5"`, `"RK45"` and `"dop853"` all work).
pub fn erk_tableau(name: &str) -> Result<&'static ButcherTableau, UnknownTableau> {
    let wanted = name.trim();
    ERK_TABLEAUS
        .iter()
        .copied()
        .find(|t| {
            t.name().eq_ignore_ascii_case(wanted)
                || t.aliases().iter().any(|a| a.eq_ignore_ascii_case(wanted))
        })
        .ok_or_else(|| UnknownTableau {
            name: name.to_string(),
            valid: erk_tableau_names().join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_knows_aliases() {
        assert_eq!(erk_tableau("Tsit5").unwrap().name(), "tsit5");
        assert_eq!(erk_tableau("RK45").unwrap().name(), "dormand-prince-54");
        assert_eq!(erk_tableau("ode23").unwrap().name(), "bogacki-shampine-32");
        assert_eq!(erk_tableau("dop853").unwrap().name(), "dormand-prince-853");
        assert_eq!(erk_tableau("rk4").unwrap().name(), "classical-rk4");
        assert_eq!(erk_tableau("VERN7").unwrap().stages(), 10);
    }

    #[test]
    fn unknown_name_lists_valid_names() {
        let err = erk_tableau("rk99").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("rk99"));
        for n in ["heun-21", "dopri54", "vern7", "cash-karp-54", "ralston-33"] {
            assert!(msg.contains(n), "{msg} lacks {n}");
        }
    }

    #[test]
    fn shapes_and_fsal() {
        for t in erk_tableaus() {
            t.check_shape().unwrap();
        }
        let fsal: Vec<_> = erk_tableaus()
            .iter()
            .filter(|t| t.fsal())
            .map(|t| t.name())
            .collect();
        assert_eq!(fsal, ["bogacki-shampine-32", "dormand-prince-54", "tsit5"]);
    }

    #[test]
    fn adaptive_flags() {
        let adaptive: Vec<_> = erk_tableaus()
            .iter()
            .map(|t| (t.name(), t.error_order()))
            .collect();
        assert_eq!(
            adaptive,
            [
                ("euler", None),
                ("heun-21", Some(1)),
                ("ralston-33", None),
                ("bogacki-shampine-32", Some(2)),
                ("dormand-prince-54", Some(4)),
                ("classical-rk4", None),
                ("cash-karp-54", Some(4)),
                ("fehlberg-45", Some(4)),
                ("dormand-prince-853", Some(5)),
                ("tsit5", Some(4)),
                ("vern7", Some(6)),
            ]
        );
    }
}
